"""The process function's environment (declared in infra/template.yaml)."""

from __future__ import annotations

from imgtasks.settings import FunctionSettings


class ProcessSettings(FunctionSettings):
    process_queue_url: str
    infer_queue_url: str
    idempotency_table_name: str
    max_upload_bytes: int = 100 * 1024 * 1024
    max_image_pixels: int = 50_000_000
    max_image_frames: int = 500
    max_receive_count: int = 3
