"""The WebSocket API's connections function: $connect authenticated as the HTTP API authenticates
(a bearer token in Authorization; a ticket from POST /events/tickets in the `ticket` query
parameter, for browsers, which cannot set headers on a WebSocket; or the session cookie, from our
own origin only), the connection recorded under its user (with a TTL); $disconnect forgets it;
messages from clients are not read (the channel only pushes)."""

from __future__ import annotations

import time
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.typing import LambdaContext

from imgtasks.adapters import aws
from imgtasks.adapters.repositories.connections import ConnectionRepository
from imgtasks.domain.errors import Unauthorized
from imgtasks.observability import logger, metrics
from imgtasks.services.credentials import EVENTS_AUDIENCE, Identity, TokenSigner
from imgtasks.settings import ConnectionSettings

from .bodies import header
from .sessions import SESSION_COOKIE, cross_origin_reason


class ConnectionWiring:
    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings
        self.connections = ConnectionRepository(aws.table(settings.table_name))
        provider = SecretsProvider(boto3_client=aws.secretsmanager())
        secret = provider.get(settings.token_secret_arn, max_age=300)
        self.signer = TokenSigner(str(secret), settings.token_issuer, settings.token_ttl_seconds)


@cache
def connection_wiring() -> ConnectionWiring:
    return ConnectionWiring(ConnectionSettings())  # type: ignore[call-arg]


def _cookie(headers: dict[str, str]) -> str | None:
    for part in header(headers, "cookie").split(";"):
        name, _, value = part.partition("=")
        if name.strip() == SESSION_COOKIE and value.strip():
            return value.strip()
    return None


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def connecting_user(event: dict[str, Any], signer: TokenSigner) -> Identity:
    """Who opens the connection; Refused (401 or 403) when nobody, or a cookie from another site."""
    headers = event.get("headers") or {}
    try:
        authorization = header(headers, "authorization")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized("the Authorization header must be 'Bearer <access_token>'")
            return signer.verify(token.strip())
        ticket = (event.get("queryStringParameters") or {}).get("ticket")
        if ticket:
            return signer.verify(ticket, audience=EVENTS_AUDIENCE)
        cookie = _cookie(headers)
        if cookie is None:
            raise Unauthorized(
                "connect with Authorization: Bearer <token>, ?ticket= (POST /events/tickets) or a session"
            )
        asked = {"headers": headers, "requestContext": {"domainName": event["requestContext"].get("domainName", "")}}
        reason = cross_origin_reason(asked, required=True)
        if reason is not None:
            raise Refused(403, reason)
        return signer.verify(cookie)
    except Unauthorized as error:
        raise Refused(401, error.detail) from error


def handle(event: dict[str, Any], found: ConnectionWiring) -> dict[str, Any]:
    context = event.get("requestContext") or {}
    route = context.get("routeKey")
    connection_id = str(context.get("connectionId", ""))
    if route == "$connect":
        try:
            identity = connecting_user(event, found.signer)
        except Refused as refused:
            logger.info("connection refused", extra={"status": refused.status, "reason": str(refused)})
            return {"statusCode": refused.status, "body": str(refused)}
        found.connections.put(connection_id, identity.user_id, int(time.time()))
        logger.info("connected", extra={"connection_id": connection_id, "user_id": identity.user_id})
        return {"statusCode": 200}
    if route == "$disconnect":
        found.connections.delete(connection_id)
        logger.info("disconnected", extra={"connection_id": connection_id})
    return {"statusCode": 200}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(event, connection_wiring())
