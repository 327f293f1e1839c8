"""Response shapes, for the OpenAPI document (api-v1.md is the contract they follow)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None


class UserOut(BaseModel):
    id: str
    username: str
    created_at: str


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int


class OAuthError(BaseModel):
    error: Literal["invalid_request", "invalid_grant", "unsupported_grant_type", "invalid_client"]
    error_description: str


class FileOut(BaseModel):
    id: str
    filename: str
    content_type: str
    size: int
    status: Literal["pending", "ready", "rejected"]
    format: str | None = None
    width: int | None = None
    height: int | None = None
    frames: int | None = None
    created_at: str
    error: str | None = None


class FilePage(BaseModel):
    items: list[FileOut]
    next_cursor: str | None


class UploadOut(BaseModel):
    url: str
    method: Literal["POST"]
    fields: dict[str, str]
    expires_at: str


class StartedUploadOut(BaseModel):
    file: FileOut
    upload: UploadOut


class TaskErrorOut(BaseModel):
    code: str
    message: str


class TaskOut(BaseModel):
    id: str
    type: Literal["process", "infer"]
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    progress: int = Field(ge=0, le=100)
    file_id: str
    spec: dict[str, Any]
    created_at: str
    updated_at: str
    started_at: str | None
    completed_at: str | None
    duration_ms: int | None
    attempts: int
    error: TaskErrorOut | None
    result: dict[str, Any] | None


class TaskList(BaseModel):
    tasks: list[TaskOut]


class TaskPage(BaseModel):
    items: list[TaskOut]
    next_cursor: str | None


class TaskResultOut(BaseModel):
    id: str
    status: str
    result: dict[str, Any] | None


class PresetOut(BaseModel):
    name: str
    description: str
    spec: dict[str, Any]


class PresetList(BaseModel):
    presets: list[PresetOut]


class HealthOut(BaseModel):
    status: Literal["ok"]
    version: str


class ModelOut(BaseModel):
    id: str
    name: str
    version: str
    labels: list[str]
    input_size: list[int]
    description: str


class ModelList(BaseModel):
    detection_models: list[ModelOut]
    classification_models: list[ModelOut]
