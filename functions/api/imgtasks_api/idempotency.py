"""Idempotency-Key on the requests that create things (POST /files, POST /tasks and their
siblings): the same key from the same user within 24 hours answers the first answer again and
creates nothing new, so a client may retry a create whose answer it never saw.

Powertools' idempotency utility keeps the records (the IdempotencyTable, with DynamoDB's TTL):
keyed by user and key; the request's method, path and body (by its meaning: body_fingerprint) are
its payload, and a key reused for a different request is refused. Only a success is kept: a
refusal (4xx) created nothing, so asking again runs again."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from imgtasks.domain.errors import InvalidInput

from .bodies import header, multipart_parts, part_bytes, raw_body
from .problems import problem_answer

HEADER = "idempotency-key"
KEEP_SECONDS = 24 * 3600
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces (a UUID, a ULID, ...)

Answer = dict[str, Any]


class _NotKept(Exception):
    """An answer that is not a success: given back, and not remembered."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.get("statusCode"))
        self.answer = answer


def _replayed(response: Any, idempotent_data: DataRecord) -> Any:
    return {**response, "headers": {**(response.get("headers") or {}), "Idempotent-Replayed": "true"}}


class IdempotentRequests:
    def __init__(self, persistence: DynamoDBPersistenceLayer) -> None:
        self._config = IdempotencyConfig(
            event_key_jmespath="[owner, key]",
            payload_validation_jmespath="[method, path, query, body_sha256]",
            expires_after_seconds=KEEP_SECONDS,
            raise_on_no_idempotency_key=True,
            response_hook=_replayed,
        )
        self._persistence = persistence

    def register_lambda_context(self, context: Any) -> None:
        self._config.register_lambda_context(context)

    def answer(self, event: dict[str, Any], owner_id: str, key: str, resolve: Callable[[], Answer]) -> Answer:
        if not _KEY.match(key):
            return problem_answer(400, "the Idempotency-Key header must be 1-255 printable ASCII characters, no spaces")
        http = event.get("requestContext", {}).get("http", {})
        request = {
            "owner": owner_id,
            "key": key,
            "method": http.get("method", ""),
            "path": event.get("rawPath", ""),
            "query": event.get("rawQueryString", ""),
            "body_sha256": body_fingerprint(event),
        }

        @idempotent_function(  # type: ignore[untyped-decorator]  # Powertools' decorator is untyped
            data_keyword_argument="request", persistence_store=self._persistence, config=self._config
        )
        def kept(request: dict[str, Any]) -> Answer:
            answer = resolve()
            if not 200 <= int(answer.get("statusCode", 500)) < 300:
                raise _NotKept(answer)
            return answer

        try:
            answer: Answer = kept(request=request)
            return answer
        except _NotKept as refused:
            return refused.answer
        except IdempotencyValidationError:
            return problem_answer(
                422, "this Idempotency-Key was used for a different request; use a new key for a new request"
            )
        except IdempotencyAlreadyInProgressError:
            return problem_answer(
                409,
                "a request with this Idempotency-Key is still being answered; retry in a moment",
                headers={"Retry-After": "1"},
            )


def body_fingerprint(event: dict[str, Any]) -> str:
    """The request body's digest as the request means it, not as it was framed: a multipart body
    by its parts (name, file name, type and each part's SHA-256), so a client's retry with a new
    boundary is the same request; a JSON body by its canonical form; any other body by its bytes."""
    headers = event.get("headers") or {}
    content_type = header(headers, "content-type")
    media = content_type.split(";", 1)[0].strip().lower()
    try:
        data = raw_body(event)  # type: ignore[arg-type]  # reads the event as a mapping
    except InvalidInput:
        data = str(event.get("body") or "").encode()
    meaning: Any = None
    if media == "multipart/form-data":
        parts = multipart_parts(content_type, data)
        if parts is not None:
            meaning = sorted(
                [
                    str(part.get_param("name", header="content-disposition")),
                    str(part.get_filename()),
                    part.get_content_type(),
                    hashlib.sha256(part_bytes(part)).hexdigest(),
                ]
                for part in parts
            )
    elif media == "application/json":
        try:
            meaning = json.loads(data)
        except ValueError:
            meaning = None
    if meaning is None:
        return hashlib.sha256(data).hexdigest()
    canonical = json.dumps([media, meaning], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_key(headers: dict[str, str]) -> str | None:
    return header(headers, HEADER, None)
