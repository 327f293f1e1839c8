"""The push channel: where it is, and a ticket to open it from a browser (which cannot set an
Authorization header on a WebSocket)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from pydantic import Field

from imgtasks.domain.base import Model
from imgtasks.services.credentials import EVENTS_AUDIENCE, TICKET_SECONDS

from ..context import caller, json_response, new_router, ok_response, problem_responses, wiring_of

router = new_router()


class EventsTicketOut(Model):
    url: str = Field(description="The WebSocket URL: each change of your tasks and files is pushed there")
    ticket: str = Field(description="Opens one connection as you: pass it as `?ticket=`; good for 60 seconds")
    expires_in: int


@router.post(
    "/events/tickets",
    summary="A ticket to open the push channel (WebSocket) as the caller",
    description=(
        "Connect to `url` with `?ticket=`; or send `Authorization: Bearer` on the handshake (any client but a "
        "browser), or, from the API's own origin, the session cookie. Each message is "
        '`{"type": "task"|"file", "change": "created"|"updated"|"deleted", "data": ...}`, `data` the task or file as '
        "the API shows it (only `id` when deleted), in the order the changes happened for each task or file."
    ),
    operation_id="create_events_ticket",
    tags=["events"],
    responses={**ok_response(201, EventsTicketOut, "Where to connect, and the ticket"), **problem_responses(401, 403)},
)
def create_events_ticket() -> Response[EventsTicketOut]:
    who = caller(router)
    found = wiring_of(router)
    ticket = found.signer.issue(
        who.user_id, who.username, guest_until=who.guest_until, ttl_seconds=TICKET_SECONDS, audience=EVENTS_AUDIENCE
    )
    return json_response(
        201, EventsTicketOut(url=found.settings.events_url, ticket=ticket.access_token, expires_in=ticket.expires_in)
    )
