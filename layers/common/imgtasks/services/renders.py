"""Render URLs answered: what the distribution's render origin (the render function) does when the
bucket has no object for a path yet.

Checked in this order, each refusal a problem: the path's shape (404), the key (403 if unknown or
revoked), the signature (403), the options (400, naming the option), the file (404 unless it is a
ready file of the key's owner: another user's file is answered as a missing one); then, only when
something is rendered (not copied), the key's renders this minute (429). The answer is made once
and kept: the render itself under
`renders/<file id>/<digest of the normalised options>` (two spellings of the same options are one
render), and the path's own object, `img/...` (what the distribution looks up first, so the
next request never reaches this code). Answers over Lambda's 6 MB response limit are a redirect
to the same URL, which the bucket then serves."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from imgtasks.adapters.edge_cache import EdgeCache
from imgtasks.adapters.repositories.renders import RenderRepository
from imgtasks.adapters.storage import ObjectStore
from imgtasks.domain.errors import Forbidden, InvalidInput, NotFound, TooManyRequests
from imgtasks.domain.formats import written_format
from imgtasks.domain.inspection import CONTENT_TYPES, EXTENSIONS
from imgtasks.domain.records import FileRecord, FileStatus
from imgtasks.domain.render_options import RenderOptions, extension_format, parse
from imgtasks.domain.render_urls import PREFIX, RenderPath, parse_path, render_path
from imgtasks.domain.signing_keys import SigningKey
from imgtasks.kinds.process import OutputFile
from imgtasks.services.signing_keys import SigningKeys

# Signed URLs never change what they show: caches may keep them for a year without asking again.
SIGNED_CACHE_CONTROL = "public, max-age=31536000, immutable"
# A Lambda answer (function URL or API) is at most 6 MB of JSON, the body in base64 (4/3 of its
# bytes): bodies over this are answered with a redirect to the same URL, served by the bucket.
INLINE_BYTES = 4 * 1024 * 1024
# What f:auto writes where no edge picked from Accept (a request straight to the render origin).
FALLBACK_FORMAT = "jpeg"
RENDERED_PREFIX = "renders"

Renderer = Callable[[FileRecord, RenderOptions], bytes]


@dataclass(frozen=True)
class RenderAnswer:
    status: int
    headers: dict[str, str]
    body: bytes = b""


@dataclass(frozen=True)
class Asked:
    """A render URL checked: its key, its file, and what to make."""

    path: RenderPath
    key: SigningKey
    file: FileRecord
    options: RenderOptions
    format: str
    # The file's own bytes, untouched (a URL with no operations and no other format).
    plain: bool = False
    negotiated: bool = False


def output_format(record: FileRecord, options: RenderOptions) -> str:
    """What a render writes: the format asked for, else the file's own (as tasks write it); a
    video's poster frame is a JPEG."""
    if options.spec.output.format is not None:
        return options.spec.output.format
    if record.is_video:
        return FALLBACK_FORMAT
    return written_format(record.format or FALLBACK_FORMAT)


class RenderService:
    def __init__(
        self,
        keys: SigningKeys,
        renders: RenderRepository,
        store: ObjectStore,
        *,
        bucket: str,
        renders_per_minute: int,
        renderer: Renderer,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._renders = renders
        self._store = store
        self._bucket = bucket
        self._per_minute = renders_per_minute
        self._renderer = renderer
        self._clock = clock

    def check(self, path: str) -> Asked:
        """The checks, in order; each refusal is a DomainError."""
        parsed = parse_path(path)
        key, record = self._renders.lookup(parsed.key_id, parsed.file_id)
        if key is None:
            raise Forbidden(f"unknown signing key '{parsed.key_id}': it was revoked, or never made")
        if not parsed.signature_matches(key.secret):
            raise Forbidden(
                "the signature does not match the path: it is HMAC-SHA256 of everything after it (from the slash), "
                "keyed with the key's secret, in base64url without padding"
            )
        options = parse(parsed.options)
        if record is None or record.owner_id != key.owner_id or record.status != FileStatus.READY:
            raise NotFound(f"file '{parsed.file_id}' does not exist")
        negotiated = options.auto_format
        if parsed.negotiated is not None and not options.auto_format:
            raise NotFound("not a render URL: a format suffix (/~avif) follows f:auto only")
        if parsed.extension is not None:
            if options.is_plain and parsed.extension == EXTENSIONS.get(record.format or ""):
                return Asked(parsed, key, record, options, record.format or "", plain=True)
            named = extension_format(parsed.extension)
            if options.auto_format or options.spec.output.format not in (None, named):
                raise InvalidInput(f"the extension '.{parsed.extension}' names another format than the options do")
            options = options.with_format(named)
        elif options.is_plain:
            return Asked(parsed, key, record, options, record.format or "", plain=True)
        if options.auto_format:
            options = options.with_format(parsed.negotiated or FALLBACK_FORMAT)
        return Asked(parsed, key, record, options, output_format(record, options), negotiated=negotiated)

    def serve(self, path: str) -> RenderAnswer:
        asked = self.check(path)
        cache_key = asked.path.cache_key
        content_type = CONTENT_TYPES.get(asked.format, "application/octet-stream")
        # Recorded before the object is written: a crash between the two leaves a record of
        # nothing (harmless), never an object its file's deletion would miss.
        self._renders.record(asked.file.id, cache_key)
        written = [cache_key]
        body: bytes | None = None
        if asked.plain:
            source = (asked.file.bucket, asked.file.key)
            self._store.copy_cached(source, self._bucket, cache_key, content_type, SIGNED_CACHE_CONTROL)
            size = asked.file.size
        else:
            rendered_key = f"{RENDERED_PREFIX}/{asked.file.id}/{asked.options.digest()}.{EXTENSIONS[asked.format]}"
            size_found = self._store.size(self._bucket, rendered_key)
            if size_found is None:
                self._count_render(asked.key.id)
                body = self._renderer(asked.file, asked.options)
                self._store.put_cached(self._bucket, rendered_key, body, content_type, SIGNED_CACHE_CONTROL)
                self._store.put_cached(self._bucket, cache_key, body, content_type, SIGNED_CACHE_CONTROL)
                written.append(rendered_key)
                size = len(body)
            else:
                source = (self._bucket, rendered_key)
                self._store.copy_cached(source, self._bucket, cache_key, content_type, SIGNED_CACHE_CONTROL)
                size = size_found
        self._unless_gone_meanwhile(asked, written)
        headers = {"Cache-Control": SIGNED_CACHE_CONTROL, "Content-Type": content_type}
        if asked.negotiated:
            headers["Vary"] = "Accept"
        if size > INLINE_BYTES:
            # Not cached by anyone: the next request must reach the bucket, which now has it.
            return RenderAnswer(307, {"Location": asked.path.viewer_path, "Cache-Control": "no-store"})
        if body is None:
            body = self._store.get(self._bucket, cache_key)
        return RenderAnswer(200, headers, body)

    def _count_render(self, key_id: str) -> None:
        """One render against the key's minute (copies of a render made before do not count)."""
        now = self._clock()
        if not self._keys.take_render(key_id, int(now // 60), self._per_minute):
            raise TooManyRequests(
                f"signing key '{key_id}' made {self._per_minute} renders this minute, the most it may",
                retry_after=60 - int(now) % 60,
            )

    def _unless_gone_meanwhile(self, asked: Asked, written: list[str]) -> None:
        """A file deleted or a key revoked while this answer was made had its cached renders
        swept before these objects were written: they are deleted here, and the answer is the
        refusal a request after the deletion gets. (Written objects, then read again: the sweep
        runs after the deletion, so either it sees this answer's objects or this read sees the
        deletion.)"""
        key, record = self._renders.lookup(asked.key.id, asked.file.id)
        if key is not None and record is not None:
            return
        self._store.delete(self._bucket, written if record is None else written[:1])
        if key is None:
            raise Forbidden(f"unknown signing key '{asked.key.id}': it was revoked, or never made")
        raise NotFound(f"file '{asked.file.id}' does not exist")


class CachedRenders:
    """The cached answers of render URLs, deleted when what they show goes: a file (its path
    objects, recorded beside it, and its renders) or a key (every path object under it); and
    invalidated at the distribution's edges, where there is one (every path of each key that
    signed a deleted file's renders: a wildcard per key, not a path per answer, as an
    invalidation allows few wildcards and matches encoded paths as sent)."""

    def __init__(
        self, renders: RenderRepository, store: ObjectStore, bucket: str, edges: EdgeCache | None = None
    ) -> None:
        self._renders = renders
        self._store = store
        self._bucket = bucket
        self._edges = edges

    def forget_file(self, file_id: str) -> int:
        """How many objects were deleted."""
        object_keys = self._renders.of_file(file_id)
        rendered = list(self._store.keys_under(self._bucket, f"{RENDERED_PREFIX}/{file_id}/"))
        self._store.delete(self._bucket, [*object_keys, *rendered])
        signers = sorted({key.split("/")[1] for key in object_keys if key.count("/") > 1})
        if self._edges is not None and signers:
            self._edges.invalidate([f"{PREFIX}{key_id}/*" for key_id in signers])
        self._renders.forget(file_id, object_keys)
        return len(object_keys) + len(rendered)

    def forget_key(self, key_id: str) -> int:
        """How many objects were deleted."""
        object_keys = list(self._store.keys_under(self._bucket, f"{PREFIX[1:]}{key_id}/"))
        self._store.delete(self._bucket, object_keys)
        if self._edges is not None:
            self._edges.invalidate([f"{PREFIX}{key_id}/*"])
        return len(object_keys)


class StableUrls:
    """Each output's `cdn_url`: its file's own bytes, signed with the owner's newest key."""

    def __init__(self, keys: SigningKeys, base_url: str) -> None:
        self._keys = keys
        self._base_url = base_url

    def for_owner(self, owner_id: str) -> Callable[[OutputFile], str]:
        """The links of an owner's outputs: the key is looked up (or made) once, at the first
        output, so showing tasks without outputs makes no key."""
        key: SigningKey | None = None

        def link(output: OutputFile) -> str:
            nonlocal key
            if key is None:
                key = self._keys.newest(owner_id)
            return plain_url(self._base_url, key, output.file_id, output.format)

        return link


def plain_url(base_url: str, key: SigningKey, record_id: str, fmt: str | None) -> str:
    """The stable URL of a file's own bytes: no operations, the format's extension."""
    file_part = f"{record_id}.{EXTENSIONS[fmt]}" if fmt is not None and fmt in EXTENSIONS else record_id
    return base_url.rstrip("/") + render_path(key.id, key.secret, [], file_part)
