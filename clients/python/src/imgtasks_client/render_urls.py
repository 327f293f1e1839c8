"""Render URLs signed on the client, as the service checks them: HMAC-SHA256 of the path after
the signature (`/{options}/{file}`), keyed with the signing key's secret, base64url without
padding. The options are the URL grammar's (`rs:fit:800:600`, `g:attention`, `q:80`, `f:webp`;
docs/api-v1.md, Render URLs); the service reads and checks them when the URL is fetched."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence


def option_segments(options: str | Sequence[str]) -> list[str]:
    """`"rs:fit:800:600/q:80"` or `["rs:fit:800:600", "q:80"]` as path segments."""
    parts = (
        options.split("/") if isinstance(options, str) else [part for option in options for part in option.split("/")]
    )
    return [part for part in (part.strip() for part in parts) if part]


def signature(secret: str, signed_path: str) -> str:
    digest = hmac.new(secret.encode("ascii"), signed_path.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign(base_url: str, key_id: str, secret: str, file_part: str, options: str | Sequence[str] = ()) -> str:
    """The URL of `file_part` (a file id, with an extension if wanted) rendered with `options`."""
    rest = "/" + "/".join([*option_segments(options), file_part])
    return f"{base_url.rstrip('/')}/img/{key_id}/{signature(secret, rest)}{rest}"
