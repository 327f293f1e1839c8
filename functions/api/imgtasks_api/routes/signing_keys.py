"""Signing keys and render URLs: a user's keys (the secret shown once), and render URLs signed for
the caller, so that a browser never holds a secret."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import ConfigDict, Field

from imgtasks.domain.base import Model
from imgtasks.domain.errors import Conflict, Forbidden, NotFound
from imgtasks.domain.ids import ID_PATTERN
from imgtasks.domain.records import FileStatus
from imgtasks.domain.render_options import MAX_OPTIONS, parse
from imgtasks.domain.render_urls import render_path
from imgtasks.domain.signing_keys import SigningKey
from imgtasks.services.renders import plain_url

from ..context import caller, json_response, new_router, ok_response, problem_responses, wiring_of
from .files import FileId

router = new_router()

KeyId = Annotated[str, Path(description="A signing key's id (a ULID)", min_length=1, max_length=64, pattern=ID_PATTERN)]

RENDER_URL_GRAMMAR = (
    "Render URLs are `{render_base_url}/img/{key_id}/{signature}/{options}/{file_id}[.{ext}]`; the options, one "
    "per path segment: `rs:{fit}:{width}:{height}[:{upscale}]`, `g:{gravity}` or `g:fp:{x}:{y}`, "
    "`c:{width}:{height}[:{left}:{top}]`, `rot:{degrees}`, `fl:{h|v|hv}`, `gs`, `bl:{radius}`, "
    "`sh:{radius}[:{percent}[:{threshold}]]`, `bg:{rrggbb}`, `q:{1-100}`, `f:{format|auto}`, "
    "`p:{preset}[:{variant}]` (docs/api-v1.md, Render URLs)."
)


class SigningKeyOut(Model):
    id: str
    created_at: str
    secret: str | None = Field(
        default=None, description="HMAC-SHA256 key of your render URLs, in the answer that made it only"
    )

    @classmethod
    def of(cls, key: SigningKey, *, with_secret: bool = False) -> SigningKeyOut:
        return cls(id=key.id, created_at=key.created_at, secret=key.secret if with_secret else None)


class SigningKeyList(Model):
    items: list[SigningKeyOut] = Field(description="Newest first; `cdn_url`s are signed with the first")
    render_base_url: str = Field(description="Where render URLs are served (the CDN's address)")


class SignRenderUrl(Model):
    model_config = ConfigDict(extra="forbid")

    file_id: str = Field(pattern=ID_PATTERN, description="A ready file of yours: an upload or a task's output")
    options: str = Field(
        default="",
        max_length=MAX_OPTIONS * 65,
        description="The options as the URL's path has them, e.g. `rs:fit:800:600/g:attention/q:80/f:webp`; "
        "empty for the file's own bytes",
        examples=["rs:fit:800:600/q:80/f:webp"],
    )
    key_id: str | None = Field(
        default=None, pattern=ID_PATTERN, description="The key to sign with; your newest by default"
    )


class RenderUrlOut(Model):
    url: str
    key_id: str


def _base_url() -> str:
    return wiring_of(router).settings.cdn_base_url.rstrip("/")


@router.post(
    "/signing-keys",
    summary="Make a signing key for render URLs (its secret shown once)",
    description="Several keys may be live at once: make a new one, move to it, then revoke the old. "
    + RENDER_URL_GRAMMAR,
    operation_id="create_signing_key",
    tags=["render URLs"],
    responses={**ok_response(201, SigningKeyOut, "The key, with its secret"), **problem_responses(401, 403, 409)},
)
def create_signing_key() -> Response[SigningKeyOut]:
    who = caller(router)
    key = wiring_of(router).signing_keys.create(who.user_id, guest=who.guest_until is not None)
    return json_response(201, SigningKeyOut.of(key, with_secret=True), headers={"Location": f"/signing-keys/{key.id}"})


@router.get(
    "/signing-keys",
    summary="Your signing keys (no secrets)",
    operation_id="list_signing_keys",
    tags=["render URLs"],
    responses={**ok_response(200, SigningKeyList, "The keys"), **problem_responses(401)},
)
def list_signing_keys() -> Response[SigningKeyList]:
    keys = wiring_of(router).signing_keys.list(caller(router).user_id)
    return json_response(
        200, SigningKeyList(items=[SigningKeyOut.of(key) for key in keys], render_base_url=_base_url())
    )


@router.delete(
    "/signing-keys/<key_id>",
    summary="Revoke a signing key",
    description="Its URLs are refused (403) from now on where they reach the service, and its cached answers are "
    "deleted; a copy a CDN edge or a browser already holds lives until it expires there.",
    operation_id="revoke_signing_key",
    tags=["render URLs"],
    responses={204: {"description": "Revoked"}, **problem_responses(400, 401, 404)},
)
def revoke_signing_key(key_id: KeyId) -> Response[str]:  # a 204 has no body
    wiring_of(router).signing_keys.revoke(caller(router).user_id, key_id)
    return Response(status_code=204, body="")


@router.post(
    "/render-urls",
    summary="Sign a render URL for one of your files",
    description="The URL a client would sign itself with a key's secret, signed here (with your newest key unless "
    "`key_id` names one, made on first use): for browsers, which hold no secret. " + RENDER_URL_GRAMMAR,
    operation_id="sign_render_url",
    tags=["render URLs"],
    responses={**ok_response(200, RenderUrlOut, "The URL"), **problem_responses(400, 401, 403, 404, 409, 415)},
)
def sign_render_url(request: Annotated[SignRenderUrl, Body()]) -> Response[RenderUrlOut]:
    who = caller(router)
    found = wiring_of(router)
    if who.guest_until is not None:
        raise Forbidden("guest accounts have no signing keys: keep the account first (POST /auth/claim)")
    segments = [segment for segment in request.options.strip("/").split("/") if segment] if request.options else []
    parse(segments)  # a 400 naming the option, before anything is signed
    record = found.files.get(who.user_id, request.file_id)
    if record.status != FileStatus.READY:
        raise Conflict(f"file '{record.id}' is {record.status}: only a ready file is rendered")
    if request.key_id is not None:
        key = found.signing_keys.get(request.key_id)
        if key is None or key.owner_id != who.user_id:
            raise NotFound(f"signing key '{request.key_id}' does not exist")
    else:
        key = found.signing_keys.newest(who.user_id)
    if segments:
        url = _base_url() + render_path(key.id, key.secret, segments, record.id)
    else:
        url = plain_url(_base_url(), key, record.id, record.format)
    return json_response(200, RenderUrlOut(url=url, key_id=key.id))


# What a browser shows as it is: a guest's preview (guests have no signing keys) is the file itself.
BROWSER_FORMATS = frozenset({"jpeg", "png", "apng", "gif", "webp", "avif", "bmp", "ico", "mp4", "webm"})
PREVIEW_SECONDS = 3600


@router.get(
    "/files/<file_id>/preview",
    summary="Redirect (302) to a picture of a file that any browser shows, at most `size` pixels a side",
    description="A render URL (`rs:fit:{size}:{size}/f:jpeg`, signed with your newest key, made on first use): "
    "HEIC, TIFF, JPEG XL, PSD and videos (their poster frame) become a JPEG, which every browser shows, and "
    "a 12 MP photo a small picture for a list. The redirect may be cached for an hour. A guest account has no "
    "signing keys: its preview is the file itself when browsers show its format, else a 409.",
    operation_id="get_file_preview",
    tags=["render URLs"],
    responses={302: {"description": "Location: the picture"}, **problem_responses(400, 401, 404, 409)},
)
def get_file_preview(
    file_id: FileId,
    size: Annotated[int, Query(ge=32, le=2048, description="The longest side, in pixels")] = 320,
) -> Response[str]:
    who = caller(router)
    found = wiring_of(router)
    record = found.files.get(who.user_id, file_id)
    if record.status != FileStatus.READY:
        raise Conflict(f"file '{record.id}' is {record.status}: only a ready file has a preview")
    if who.guest_until is None:
        # JPEG rather than f:auto: a 1600 px preview is 5 ms of libjpeg-turbo, 270 ms as WebP, 760 ms as
        # AVIF, for a picture looked at for seconds (transparency shows on white).
        key = found.signing_keys.newest(who.user_id)
        url = _base_url() + render_path(key.id, key.secret, [f"rs:fit:{size}:{size}", "f:jpeg"], record.id)
        cache = f"private, max-age={PREVIEW_SECONDS}"  # a render URL lives as long as its key
    elif record.format in BROWSER_FORMATS:
        url = found.files.content_url(who.user_id, record.id)
        cache = "private, max-age=600"  # less than the presigned URL's 15 minutes
    else:
        raise Conflict(f"a guest's {record.format} file has no preview: keep the account first (POST /auth/claim)")
    return Response(status_code=302, headers={"Location": url, "Cache-Control": cache}, body="")
