"""The infer function's environment (declared in infra/template.yaml)."""

from __future__ import annotations

from imgtasks.settings import FunctionSettings


class InferSettings(FunctionSettings):
    models_bucket: str
    max_image_pixels: int = 50_000_000
    max_receive_count: int = 3
    model_cache_dir: str = "/tmp/imgtasks-models"  # noqa: S108 - Lambda's only writable disk
