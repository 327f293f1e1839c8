"""Reading requests where Powertools' validation does not: endpoints that take JSON or multipart
on the same path, the OAuth form, and headers by name."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from typing import Any, TypeVar, overload
from urllib.parse import parse_qs

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import TypeAdapter, ValidationError

from imgtasks.domain.errors import InvalidInput

from .problems import summary, validation_errors

Model = TypeVar("Model")


@overload
def header(headers: dict[str, str], name: str) -> str: ...
@overload
def header(headers: dict[str, str], name: str, default: None) -> str | None: ...
def header(headers: dict[str, str], name: str, default: str | None = "") -> str | None:
    """A header's value by its lower-case name, whatever case the client sent it in; `default`
    (empty) when it was not sent."""
    return next((value for key, value in headers.items() if key.lower() == name), default)


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content_type: str
    data: bytes


def media_type(event: APIGatewayProxyEventV2) -> str:
    header = event.headers.get("content-type") or event.headers.get("Content-Type") or ""
    return header.split(";", 1)[0].strip().lower()


def raw_body(event: APIGatewayProxyEventV2) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body)
        except (binascii.Error, ValueError) as error:
            raise InvalidInput("the request body is not valid base64") from error
    return body.encode("utf-8")


def load_json(data: bytes | str, *, loc: tuple[str, ...] = ("body",)) -> Any:
    """JSON text as Python values; anything the parser cannot take (bad syntax, bytes that are not
    UTF-8, nesting deep enough to exhaust the recursion limit) is a 400 that says why."""
    try:
        return json.loads(data)
    except RecursionError as error:
        raise InvalidInput(
            "the JSON is nested too deeply to be read",
            errors=[{"loc": list(loc), "msg": "nested too deeply", "type": "json_invalid"}],
        ) from error
    except UnicodeDecodeError as error:
        raise InvalidInput(
            "the JSON is not UTF-8 text",
            errors=[{"loc": list(loc), "msg": "not UTF-8", "type": "json_invalid"}],
        ) from error
    except ValueError as error:
        raise InvalidInput(
            f"the body is not valid JSON: {error}",
            errors=[{"loc": list(loc), "msg": "not valid JSON", "type": "json_invalid"}],
        ) from error


def parse_json(data: bytes | str, model: Any, *, loc_prefix: tuple[str, ...] = ("body",)) -> Any:
    """Validates JSON against a model (or a tagged union); errors become one 400 entry per field."""
    return validate(load_json(data, loc=loc_prefix), model, loc_prefix=loc_prefix)


def validate(document: Any, model: Any, *, loc_prefix: tuple[str, ...] = ("body",)) -> Any:
    adapter = model if isinstance(model, TypeAdapter) else TypeAdapter(model)
    try:
        return adapter.validate_python(document)
    except ValidationError as error:
        raw = [{**e, "loc": (*loc_prefix, *e["loc"])} for e in error.errors()]
        entries = validation_errors(raw)
        raise InvalidInput(summary(entries), errors=entries) from error


def parse_form(event: APIGatewayProxyEventV2) -> dict[str, str]:
    """application/x-www-form-urlencoded; a repeated field is an error, as RFC 6749 asks."""
    fields = parse_qs(raw_body(event).decode("utf-8", errors="strict"), keep_blank_values=True)
    repeated = [name for name, values in fields.items() if len(values) > 1]
    if repeated:
        raise ValueError(f"repeated parameter: {', '.join(repeated)}")
    return {name: values[0] for name, values in fields.items()}


def multipart_parts(content_type: str, body: bytes) -> list[Any] | None:
    """The parts of a multipart body (email.message objects), or None when it is not one."""
    envelope = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode() + body
    message = BytesParser(policy=policy.HTTP).parsebytes(envelope)
    return list(message.iter_parts()) if message.is_multipart() else None


def part_bytes(part: Any) -> bytes:
    """A part's payload, transfer encoding undone."""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def parse_multipart(
    event: APIGatewayProxyEventV2, required: frozenset[str]
) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    """multipart/form-data: text fields and file parts, by field name. Every `required` part must
    be there and no other: a missing part and an unknown one are both 400s, one entry each, as
    for a JSON body."""
    content_type = event.headers.get("content-type") or event.headers.get("Content-Type") or ""
    if "boundary=" not in content_type:
        raise InvalidInput("the multipart body has no boundary in its Content-Type")
    parts = multipart_parts(content_type, raw_body(event))
    if parts is None:
        raise InvalidInput("the multipart body could not be read")
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    unknown: list[str] = []
    for part in parts:
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        if name not in required:
            unknown.append(name)
            continue
        data = part_bytes(part)
        filename = part.get_filename()
        if filename is not None:
            files[name] = UploadedFile(filename=filename, content_type=part.get_content_type(), data=data)
        else:
            fields[name] = data.decode(part.get_content_charset() or "utf-8", errors="replace")
    missing = sorted(required - set(fields) - set(files))
    errors = [{"loc": ["body", name], "msg": "field required", "type": "missing"} for name in missing]
    errors += [{"loc": ["body", name], "msg": "unknown field", "type": "extra_forbidden"} for name in unknown]
    if errors:
        expected = ", ".join(f"'{name}'" for name in sorted(required))
        raise InvalidInput(
            f"the multipart body needs exactly the parts {expected}: "
            + "; ".join(f"{entry['loc'][-1]}: {entry['msg']}" for entry in errors),
            errors=errors,
        )
    return fields, files


def require_readable_json(event: APIGatewayProxyEventV2) -> None:
    """A JSON body the parser cannot take is an InvalidInput (400) that says why."""
    if media_type(event) == "application/json" and event.get("body"):
        load_json(raw_body(event))
