"""Response shapes: what every route returns, validated by Powertools on the way out and named in
the OpenAPI document (api-v1.md is the contract they follow)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, field_serializer

from imgtasks.domain.base import Model
from imgtasks.domain.model_manifest import ModelManifest
from imgtasks.kinds.process import ProcessSpec
from imgtasks.views import FileOut, TaskOut, TaskResultView, TaskStatusName


class Problem(Model):
    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None


class UserOut(Model):
    id: str
    username: str
    created_at: str


class SessionOut(Model):
    """Who the session (or token) belongs to."""

    user_id: str
    username: str
    guest: bool = Field(description="A guest account: it and its data expire at `expires_at` unless claimed")
    expires_at: str | None = Field(default=None, description="When a guest's account and data expire (RFC 3339)")


class TokenOut(Model):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int


class OAuthError(Model):
    error: Literal[
        "invalid_request", "invalid_grant", "unsupported_grant_type", "invalid_client", "temporarily_unavailable"
    ]
    error_description: str


class FilePage(Model):
    items: list[FileOut]
    next_cursor: str | None


class UploadOut(Model):
    url: str
    method: Literal["POST"]
    fields: dict[str, str]
    expires_at: str


class StartedUploadOut(Model):
    file: FileOut
    upload: UploadOut


class TaskList(Model):
    tasks: list[TaskOut]


class TaskPage(Model):
    items: list[TaskOut]
    next_cursor: str | None


class TaskResultOut(Model):
    id: str
    status: TaskStatusName
    result: TaskResultView | None


class PresetOut(Model):
    model_config = ConfigDict(json_schema_mode_override="validation")

    name: str
    description: str
    spec: ProcessSpec

    @field_serializer("spec")
    def _spec_as_written(self, spec: ProcessSpec) -> dict[str, Any]:
        return spec.model_dump(exclude_none=True)


class PresetList(Model):
    presets: list[PresetOut]


class HealthOut(Model):
    status: Literal["ok"]
    version: str


class ModelOut(Model):
    id: str
    name: str
    version: str
    labels: list[str]
    input_size: list[int] = Field(description="Width and height the model takes")
    description: str

    @classmethod
    def from_manifest(cls, manifest: ModelManifest) -> ModelOut:
        return cls(
            id=manifest.id,
            name=manifest.name,
            version=manifest.version,
            labels=manifest.labels,
            input_size=list(manifest.input.size),
            description=manifest.description,
        )


class ModelList(Model):
    detection_models: list[ModelOut]
    classification_models: list[ModelOut]
