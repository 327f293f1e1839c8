"""How files come in: uploads (UploadFunction: S3 events of presigned uploads and S3 drop-ins),
fetch (FetchFunction: URL ingest) and dead_uploads (DeadUploadFunction: the upload events no
worker could handle)."""
