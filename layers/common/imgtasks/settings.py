"""Configuration every function reads. Each function extends this with its own variables; every
variable is declared in infra/template.yaml and parsed once per cold start."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class FunctionSettings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    table_name: str
    uploads_bucket: str
    results_bucket: str
