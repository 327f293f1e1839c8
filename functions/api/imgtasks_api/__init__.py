"""The imgtasks HTTP API function."""
