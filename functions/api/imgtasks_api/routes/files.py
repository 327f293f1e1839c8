"""Files: upload (multipart, or a presigned POST for large files), list, read, content, delete."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import ConfigDict, Field, JsonValue

from imgtasks.domain.base import Model
from imgtasks.domain.errors import InvalidInput, UnsupportedMediaType
from imgtasks.domain.ids import ID_PATTERN
from imgtasks.domain.inspection import ACCEPTED_CONTENT_TYPES
from imgtasks.domain.records import FileRecord
from imgtasks.kinds.base import WebUrl
from imgtasks.services.files import SMALL_UPLOAD_LIMIT
from imgtasks.services.uploads import StartedUpload
from imgtasks.views import FileOut

from ..bodies import UploadedFile, load_json, media_type, parse_multipart, raw_body, validate
from ..context import (
    ResponseBody,
    caller,
    json_response,
    new_router,
    ok_response,
    problem_responses,
    request,
    wiring_of,
)
from ..policy import policy
from ..schemas import FilePage, StartedUploadOut, UploadOut

router = new_router()

FileId = Annotated[str, Path(description="A file id (a ULID)", min_length=1, max_length=64, pattern=ID_PATTERN)]
FileStatusName = Literal["pending", "ready", "rejected"]
Limit = Annotated[int, Query(ge=1, le=100, description="Page size, 1-100")]
Cursor = Annotated[str | None, Query(max_length=512, description="next_cursor of the previous page")]


# The document's list of what UploadService.start_upload accepts.
UPLOAD_CONTENT_TYPES: list[JsonValue] = [*sorted(ACCEPTED_CONTENT_TYPES)]


class StartUpload(Model):
    """A large upload: the API answers with a presigned POST for S3."""

    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(
        examples=["image/jpeg", "video/mp4"],
        json_schema_extra={"enum": UPLOAD_CONTENT_TYPES},
        description="The media type of an image or a video the service reads",
    )
    size: int = Field(
        ge=1,
        description="Bytes; the presigned policy caps the upload at this size. At most MaxUploadBytes for an image "
        "(100 MiB by default) and MaxVideoUploadBytes for a video (500 MiB)",
    )


class FetchUrl(Model):
    """URL ingest: the service fetches the file from the URL."""

    model_config = ConfigDict(extra="forbid")

    url: WebUrl = Field(examples=["https://example.com/photo.jpg"])
    filename: str | None = Field(default=None, min_length=1, max_length=255, description="Default: from the URL")


MULTIPART_FILE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary", "description": "At most 4 MiB"}},
                    "additionalProperties": False,  # another part is refused
                }
            }
        },
    }
}


def file_part(files: dict[str, UploadedFile]) -> UploadedFile:
    upload = files.get("file")
    if upload is None:
        raise InvalidInput(
            "the multipart body needs a part named 'file'",
            errors=[{"loc": ["body", "file"], "msg": "field required", "type": "missing"}],
        )
    return upload


def started_upload(started: StartedUpload) -> StartedUploadOut:
    return StartedUploadOut(
        file=FileOut.model_validate(started.file, from_attributes=True),
        upload=UploadOut(
            url=started.upload.url, method="POST", fields=started.upload.fields, expires_at=started.expires_at
        ),
    )


def created(record: FileRecord, body: ResponseBody) -> Response[ResponseBody]:
    return json_response(201, body, headers={"Location": f"/files/{record.id}"})


def start_upload(request: StartUpload) -> Response[StartedUploadOut]:
    owner = caller(router)
    started = wiring_of(router).uploads.start_upload(
        owner.user_id, request.filename, request.content_type, request.size, retain_until=owner.guest_until
    )
    return created(started.file, started_upload(started))


@router.post(
    "/files",
    summary="Upload a file (multipart, at most 4 MiB)",
    description=(
        "Stores the file and inspects it at once: 201 with the file `ready`, or 400 when the bytes are not a "
        "supported image. This path also accepts the JSON body of `POST /files/presigned` (the contract's first "
        "form); the document lists that form under its own operation so that generated clients get one body type "
        "per operation."
    ),
    operation_id="upload_file",
    tags=["files"],
    responses={
        **ok_response(
            201, FileOut | StartedUploadOut, "multipart: the stored file (ready); JSON: the file and its upload"
        ),
        **problem_responses(400, 401, 413, 415),
    },
    openapi_extensions=MULTIPART_FILE_BODY,
)
@policy(idempotent=True)
def create_file() -> Response[FileOut | StartedUploadOut]:
    event = request(router)
    kind = media_type(event)
    if kind == "multipart/form-data":
        _, parts = parse_multipart(event, required=frozenset({"file"}))
        upload = file_part(parts)
        owner = caller(router)
        record = wiring_of(router).uploads.upload(
            owner.user_id, upload.filename, upload.data, retain_until=owner.guest_until
        )
        return created(record, FileOut.model_validate(record, from_attributes=True))
    if kind == "application/json":
        body = load_json(raw_body(event))
        if isinstance(body, dict) and "url" in body:
            return fetch_url(validate(body, FetchUrl))  # type: ignore[return-value]
        return start_upload(validate(body, StartUpload))  # type: ignore[return-value]
    raise UnsupportedMediaType(
        f"send multipart/form-data with a 'file' part (at most {SMALL_UPLOAD_LIMIT} bytes), or application/json "
        f"{{filename, content_type, size}} for a presigned upload (got {kind or 'no content type'})"
    )


@router.post(
    "/files/presigned",
    summary="Start a large upload: a pending file and a presigned POST to S3",
    description=(
        "The client posts the bytes straight to `upload.url` with `upload.fields`; the S3 event then inspects "
        "them and marks the file `ready` or `rejected`. The policy caps the size and pins the key and content type."
    ),
    operation_id="start_presigned_upload",
    tags=["files"],
    responses={
        **ok_response(201, StartedUploadOut, "The pending file and its upload"),
        **problem_responses(400, 401, 415),
    },
)
@policy(idempotent=True)
def start_presigned_upload(request: Annotated[StartUpload, Body()]) -> Response[StartedUploadOut]:
    return start_upload(request)


def fetch_url(request: FetchUrl) -> Response[FileOut]:
    owner = caller(router)
    record = wiring_of(router).url_ingest.start_fetch(
        owner.user_id, request.url, request.filename, retain_until=owner.guest_until
    )
    return created(record, FileOut.model_validate(record, from_attributes=True))


@router.post(
    "/files/from-url",
    summary="Fetch a file from a URL: a pending file the service fills",
    description=(
        "201 with a `pending` file; a worker fetches the URL (http or https only; names that lead to loopback, "
        "private, link-local, metadata or reserved addresses are refused, each of at most 3 redirects checked "
        "the same way; the body is capped at the upload limit) and the file becomes `ready` or `rejected` with a "
        "reason, as a presigned upload does. `POST /files` takes the same JSON body."
    ),
    operation_id="fetch_file_from_url",
    tags=["files"],
    responses={**ok_response(201, FileOut, "The pending file"), **problem_responses(400, 401, 415)},
)
@policy(idempotent=True)
def fetch_file_from_url(request: Annotated[FetchUrl, Body()]) -> Response[FileOut]:
    return fetch_url(request)


@router.get(
    "/files",
    summary="The caller's files, newest first by default",
    operation_id="list_files",
    tags=["files"],
    responses={**ok_response(200, FilePage, "A page of files"), **problem_responses(400, 401)},
)
def list_files(
    limit: Limit = 20,
    cursor: Cursor = None,
    status: Annotated[FileStatusName | None, Query()] = None,
    file_format: Annotated[
        str | None,
        Query(alias="format", pattern=r"^[a-z0-9]{2,8}$", description="A file format: jpeg, png, heic, mp4..."),
    ] = None,
    order: Annotated[Literal["created_at", "-created_at"], Query(description="GSI1 (ULIDs sort by creation)")] = (
        "-created_at"
    ),
) -> Response[FilePage]:
    page = wiring_of(router).files.list(
        caller(router).user_id, limit=limit, cursor=cursor, order=order, status=status, file_format=file_format
    )
    items = [FileOut.model_validate(record, from_attributes=True) for record in page.items]
    return json_response(200, FilePage(items=items, **FilePage.of(page, limit, cursor)))


@router.get(
    "/files/<file_id>",
    summary="A file",
    operation_id="get_file",
    tags=["files"],
    responses={**ok_response(200, FileOut, "The file"), **problem_responses(400, 401, 404)},
)
def get_file(file_id: FileId) -> Response[FileOut]:
    return json_response(
        200, FileOut.model_validate(wiring_of(router).files.get(caller(router).user_id, file_id), from_attributes=True)
    )


@router.get(
    "/files/<file_id>/content",
    summary="Redirect (302) to a presigned URL of the bytes, valid for 15 minutes",
    operation_id="get_file_content",
    tags=["files"],
    responses={302: {"description": "Location: a presigned S3 URL"}, **problem_responses(400, 401, 404, 409)},
)
def get_file_content(file_id: FileId) -> Response[str]:
    url = wiring_of(router).files.content_url(caller(router).user_id, file_id)
    return Response(status_code=302, headers={"Location": url, "Cache-Control": "no-store"}, body="")


@router.delete(
    "/files/<file_id>",
    summary="Delete a file and its bytes",
    operation_id="delete_file",
    tags=["files"],
    responses={204: {"description": "Deleted"}, **problem_responses(400, 401, 404)},
)
def delete_file(file_id: FileId) -> Response[str]:
    wiring_of(router).files.delete(caller(router).user_id, file_id)
    return Response(status_code=204, body="")
