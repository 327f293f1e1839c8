"""S3's browser-based uploads (a presigned POST) checked as S3 checks them, which moto does not:
the policy's signature (SigV4 or V2, with the local stack's secret), its expiration, and every condition
(the bucket, the key, the content type, the length), and no form field the policy does not name.
Without this a user could change the signed `key` field and write into another user's inbox on
the local stack, where people try the service; S3 and LocalStack refuse that request."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from email import policy as email_policy
from email.parser import BytesParser
from typing import Any

# The secret every part of the local stack signs with (local_stack.session, the functions' environment).
LOCAL_SECRET_KEY = "test"  # noqa: S105 - the emulator's well-known test secret
# Form fields a policy need not name (AWS: the signature's own fields, the file, x-ignore-*).
_UNCONDITIONED = {"policy", "x-amz-signature", "file", "awsaccesskeyid", "signature"}


class PolicyRefused(Exception):
    """Why S3 would refuse the upload: its status, error code and message, as S3 answers them
    (403 AccessDenied for the signature and the conditions, 400 EntityTooLarge/EntityTooSmall for
    the length)."""

    def __init__(self, message: str, *, code: str = "AccessDenied", status: int = 403) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def form_fields(content_type: str, body: bytes) -> tuple[dict[str, str], bytes | None]:
    """The text fields of a multipart/form-data body (names lower-cased, as S3 matches them) and
    the file part's bytes."""
    envelope = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode() + body
    message = BytesParser(policy=email_policy.HTTP).parsebytes(envelope)
    fields: dict[str, str] = {}
    data: bytes | None = None
    if not message.is_multipart():
        return fields, data
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        raw = payload if isinstance(payload, bytes) else b""
        if name.lower() == "file":
            data = raw
        else:
            fields[name.lower()] = raw.decode("utf-8", errors="replace")
    return fields, data


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def check(bucket: str, fields: dict[str, str], data: bytes | None, now: datetime | None = None) -> None:
    """Raises PolicyRefused unless S3 would take this POST. A form without a policy is left to moto."""
    encoded = fields.get("policy")
    if encoded is None:
        return
    credential = fields.get("x-amz-credential", "").split("/")
    if fields.get("x-amz-algorithm") == "AWS4-HMAC-SHA256" and len(credential) == 5:
        _, date, region, service, _ = credential
        key = _signing_key(LOCAL_SECRET_KEY, date, region, service)
        expected = hmac.new(key, encoded.encode(), hashlib.sha256).hexdigest()
        given = fields.get("x-amz-signature", "")
    else:  # signature version 2: AWSAccessKeyId and signature
        expected = base64.b64encode(
            hmac.new(LOCAL_SECRET_KEY.encode(), encoded.encode(), hashlib.sha1).digest()
        ).decode()
        given = fields.get("signature", "")
    if not hmac.compare_digest(expected, given):
        raise PolicyRefused("The request signature we calculated does not match the signature you provided")
    try:
        document: dict[str, Any] = json.loads(base64.b64decode(encoded))
    except ValueError as error:
        raise PolicyRefused("Invalid Policy: the policy is not base64-encoded JSON") from error
    expiration = datetime.fromisoformat(str(document.get("expiration", "")).replace("Z", "+00:00"))
    if expiration <= (now or datetime.now(UTC)):
        raise PolicyRefused("Invalid according to Policy: Policy expired.")
    values = {**fields, "bucket": bucket}
    named: set[str] = set()
    for condition in document.get("conditions", []):
        named |= _check_condition(condition, values, len(data) if data is not None else 0)
    unnamed = sorted(name for name in fields if name not in named and name not in _UNCONDITIONED)
    unnamed = [name for name in unnamed if not name.startswith("x-ignore-")]
    if unnamed:
        raise PolicyRefused(f"Invalid according to Policy: Extra input fields: {', '.join(unnamed)}")


def _check_condition(condition: Any, values: dict[str, str], size: int) -> set[str]:
    """Checks one condition; returns the field names it covers."""
    if isinstance(condition, dict):
        (name, expected), *_ = condition.items()
        condition = ["eq", f"${name}", expected]
    operator, *arguments = condition
    if operator == "content-length-range":
        low, high = (int(value) for value in arguments)
        if size > high:
            raise PolicyRefused(
                "Your proposed upload exceeds the maximum allowed size", code="EntityTooLarge", status=400
            )
        if size < low:
            raise PolicyRefused(
                "Your proposed upload is smaller than the minimum allowed size", code="EntityTooSmall", status=400
            )
        return set()
    field, expected = str(arguments[0]).lstrip("$").lower(), str(arguments[1])
    value = values.get(field, "")
    matches = value == expected if operator == "eq" else value.startswith(expected)
    if operator not in ("eq", "starts-with") or not matches:
        raise PolicyRefused(f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}")
    return {field}


def error_document(refused: PolicyRefused) -> bytes:
    escaped = str(refused).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{refused.code}</Code><Message>{escaped}</Message></Error>"
    ).encode()
