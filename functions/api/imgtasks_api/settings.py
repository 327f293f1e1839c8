"""The API function's environment (declared in infra/template.yaml), parsed once per cold start."""

from __future__ import annotations

from imgtasks.settings import FunctionSettings


class ApiSettings(FunctionSettings):
    process_queue_url: str
    infer_queue_url: str
    token_secret_arn: str
    token_ttl_seconds: int = 3600
    token_issuer: str = "imgtasks"  # noqa: S105 - a name, not a secret
    allow_registration: bool = True
    max_upload_bytes: int = 100 * 1024 * 1024
    max_image_pixels: int = 50_000_000
    max_image_frames: int = 500
    models_bucket: str
