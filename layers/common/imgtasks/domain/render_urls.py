"""Render URLs: `/img/{key_id}/{signature}/{options}/{file_id}[.{ext}]`, signed as imgproxy and
thumbor sign: the signature is HMAC-SHA256 over the rest of the path (`/{options}/{file_id}[.{ext}]`,
from the slash after the signature, as text: percent-decoded), keyed with the signing key's secret
as written (its ASCII bytes), in base64url without padding.

A request with `f:auto` is answered in the format the Accept header prefers. The distribution's
viewer-request function (infra/template.yaml) writes that choice into the path as a last segment,
`/~avif`, `/~webp` or `/~jpeg`, so the cache (CloudFront's, and the bucket's object for the path)
keeps one answer per format. The suffix is not signed: it picks among the formats `f:auto`
allows, nothing else; without one (a request that did not pass the edge), `f:auto` is JPEG."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import unquote

from imgtasks.domain.errors import Forbidden, NotFound
from imgtasks.domain.render_options import NEGOTIATED_FORMATS

PREFIX = "/img/"
NEGOTIATED_MARK = "~"


def sign(secret: str, signed_path: str) -> str:
    digest = hmac.new(secret.encode("ascii"), signed_path.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def signed_path(options: list[str], file_part: str) -> str:
    return "/" + "/".join([*options, file_part])


def render_path(key_id: str, secret: str, options: list[str], file_part: str) -> str:
    """The path of a render URL (without the host), signed."""
    rest = signed_path(options, file_part)
    return f"{PREFIX}{key_id}/{sign(secret, rest)}{rest}"


@dataclass(frozen=True)
class RenderPath:
    """A render URL's path, taken apart (not yet checked against its key)."""

    # The path percent-decoded, as the bucket names the object that answers it (S3 decodes the
    # path of a request), with the edge's negotiated suffix if it has one.
    path: str
    key_id: str
    signature: str
    options: list[str]
    file_id: str
    extension: str | None
    # The format the edge picked from Accept for `f:auto` (its `/~fmt` segment), if any.
    negotiated: str | None

    @property
    def signed(self) -> str:
        return signed_path(self.options, self.file_id + (f".{self.extension}" if self.extension else ""))

    def signature_matches(self, secret: str) -> bool:
        return hmac.compare_digest(sign(secret, self.signed), self.signature)

    @property
    def viewer_path(self) -> str:
        """The path as the viewer asked for it (without the edge's negotiated suffix)."""
        return self.path.rsplit("/", 1)[0] if self.negotiated else self.path

    @property
    def cache_key(self) -> str:
        """The object that holds this path's answer in the results bucket: exactly the key an
        S3 origin looks up for the path the edge passes on."""
        return self.path[1:]


def parse_path(path: str) -> RenderPath:
    """A render URL's path (percent-decoded here). A path that is not a render URL's shape is a
    404, as any unknown path; one without a signature segment is a 403."""
    if not path.startswith(PREFIX):
        raise NotFound("not a render URL")
    decoded = unquote(path)
    parts = decoded[len(PREFIX) :].split("/")
    negotiated = None
    if parts and parts[-1].startswith(NEGOTIATED_MARK):
        negotiated = parts.pop()[len(NEGOTIATED_MARK) :]
        if negotiated not in NEGOTIATED_FORMATS:
            raise NotFound("not a render URL")
    if len(parts) < 3 or not parts[0]:
        raise Forbidden("a render URL is /img/{key_id}/{signature}/{options}/{file_id}: it has no signature")
    key_id, signature, *options, file_part = parts
    file_id, dot, extension = file_part.partition(".")
    if dot and not extension:
        raise NotFound("not a render URL: a file id ends it, or a file id, a dot and an extension")
    return RenderPath(decoded, key_id, signature, options, file_id, extension or None, negotiated)
