"""Response shapes: what every route returns, validated by Powertools on the way out and named in
the OpenAPI document (api-v1.md is the contract they follow)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, field_serializer

from imgtasks.adapters.repositories.cursors import Page
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
    admin: bool = Field(default=False, description="An operator (AdminUsernames): GET /admin/stats and the admin page")


class SessionState(Model):
    """Whether the browser's session cookie names a signed-in account."""

    signed_in: bool
    session: SessionOut | None = Field(default=None, description="Who, when signed in")


class TokenOut(Model):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int


class OAuthError(Model):
    error: Literal[
        "invalid_request", "invalid_grant", "unsupported_grant_type", "invalid_client", "temporarily_unavailable"
    ]
    error_description: str


class PageCounts(Model):
    """What a list page says beside its items (the totals come from counters the table's change
    stream keeps, so they follow a change within a second or so)."""

    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last one")
    total: int = Field(description="How many of the caller's items match the filters, in all pages")
    pages: int = Field(description="How many pages of this `limit` the total makes")
    has_next: bool
    has_previous: bool = Field(description="True when this page was asked for with a cursor")

    @staticmethod
    def of(page: Page, limit: int, cursor: str | None) -> dict[str, Any]:
        # The counters follow the change stream, a moment behind the list: never fewer than the
        # items shown, and one more when another page exists.
        total = max(page.total or 0, len(page.items) + (1 if page.next_cursor else 0))
        return {
            "next_cursor": page.next_cursor,
            "total": total,
            "pages": -(-total // limit),
            "has_next": page.next_cursor is not None,
            "has_previous": cursor is not None,
        }


class FilePage(PageCounts):
    items: list[FileOut]


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


class TaskPage(PageCounts):
    items: list[TaskOut]


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
