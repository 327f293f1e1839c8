"""The process function: S3 upload events and process tasks."""
