"""Webhooks: endpoints registered for the caller, their delivery attempts, and the caller's signing
secret (Standard Webhooks: `whsec_` + base64 of 32 random bytes), shown only when it is made."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import ConfigDict, Field, field_serializer

from imgtasks.adapters.outbound import redacted
from imgtasks.domain.base import Model
from imgtasks.domain.errors import Forbidden
from imgtasks.domain.ids import ID_PATTERN
from imgtasks.domain.webhooks import DeliveryAttempt, EventType, WebhookEndpoint
from imgtasks.kinds.base import WebUrl

from ..context import caller, json_response, new_router, ok_response, problem_responses, wiring_of

router = new_router()

WebhookId = Annotated[str, Path(description="A webhook id (a ULID)", min_length=1, max_length=64, pattern=ID_PATTERN)]


class RegisterWebhook(Model):
    model_config = ConfigDict(extra="forbid")

    url: WebUrl = Field(examples=["https://example.com/hooks/imgtasks"])
    events: list[EventType] = Field(min_length=1, description="The events to receive")


class WebhookOut(Model):
    id: str
    url: str
    events: list[EventType]
    created_at: str
    disabled: bool = Field(description="True once the receiver answered 410 Gone: nothing more is sent")
    disabled_reason: str | None = None
    secret: str | None = Field(
        default=None,
        description="Your signing secret, in the answer that created it only (every webhook of yours, and the "
        "`webhook` of your tasks, is signed with it)",
    )

    @field_serializer("url")
    def _without_credentials(self, url: str) -> str:
        return redacted(url)

    @classmethod
    def of(cls, endpoint: WebhookEndpoint, secret: str | None = None) -> WebhookOut:
        return cls(**endpoint.model_dump(exclude={"owner_id"}), secret=secret)


class WebhookList(Model):
    items: list[WebhookOut]


class SecretOut(Model):
    secret: str = Field(description="The new signing secret, shown this once; the old one stops working")


class DeliveryList(Model):
    items: list[DeliveryAttempt] = Field(description="The newest attempts first")


@router.post(
    "/webhooks",
    summary="Register a webhook endpoint",
    description=(
        "201 with the endpoint; the answer that first makes your signing secret shows it, once. Deliveries are "
        "signed as Standard Webhooks 1.0 specifies (`webhook-id`, `webhook-timestamp`, `webhook-signature`), sent "
        "with a 15 s timeout through the same SSRF guard as URL ingest, and retried with growing delays over more "
        "than a day until the receiver answers 2xx; a 410 disables the endpoint."
    ),
    operation_id="create_webhook",
    tags=["webhooks"],
    responses={**ok_response(201, WebhookOut, "The endpoint"), **problem_responses(400, 401, 409, 415)},
)
def create_webhook(request: Annotated[RegisterWebhook, Body()]) -> Response[WebhookOut]:
    refuse_guests()
    endpoint, secret = wiring_of(router).webhooks.register(caller(router).user_id, request.url, request.events)
    return json_response(201, WebhookOut.of(endpoint, secret), headers={"Location": f"/webhooks/{endpoint.id}"})


def refuse_guests() -> None:
    """Webhooks are for servers; a guest (a browser visitor whose account expires) claims the
    account first."""
    if caller(router).guest_until is not None:
        raise Forbidden("guest accounts cannot register webhooks: keep the account first (POST /auth/claim)")


@router.post(
    "/webhooks/secret",
    summary="Make a new signing secret (shown once)",
    operation_id="rotate_webhook_secret",
    tags=["webhooks"],
    responses={**ok_response(201, SecretOut, "The new secret"), **problem_responses(401)},
)
def rotate_webhook_secret() -> Response[SecretOut]:
    refuse_guests()
    return json_response(201, SecretOut(secret=wiring_of(router).webhooks.rotate_secret(caller(router).user_id)))


@router.get(
    "/webhooks",
    summary="Your webhook endpoints",
    operation_id="list_webhooks",
    tags=["webhooks"],
    responses={**ok_response(200, WebhookList, "The endpoints"), **problem_responses(401)},
)
def list_webhooks() -> Response[WebhookList]:
    endpoints = wiring_of(router).webhooks.endpoints(caller(router).user_id)
    return json_response(200, WebhookList(items=[WebhookOut.of(endpoint) for endpoint in endpoints]))


@router.delete(
    "/webhooks/<webhook_id>",
    summary="Delete a webhook endpoint",
    operation_id="delete_webhook",
    tags=["webhooks"],
    responses={204: {"description": "Deleted"}, **problem_responses(400, 401, 404)},
)
def delete_webhook(webhook_id: WebhookId) -> Response[str]:  # a 204 has no body
    wiring_of(router).webhooks.delete(caller(router).user_id, webhook_id)
    return Response(status_code=204, body="")


@router.get(
    "/webhooks/<webhook_id>/deliveries",
    summary="Delivery attempts of a webhook endpoint, newest first",
    operation_id="list_webhook_deliveries",
    tags=["webhooks"],
    responses={**ok_response(200, DeliveryList, "The attempts"), **problem_responses(400, 401, 404)},
)
def list_webhook_deliveries(
    webhook_id: WebhookId, limit: Annotated[int, Query(ge=1, le=100)] = 50
) -> Response[DeliveryList]:
    attempts = wiring_of(router).webhooks.deliveries(caller(router).user_id, webhook_id, limit)
    return json_response(200, DeliveryList(items=attempts))
