"""What a route allows, declared on the route itself:

    @router.post("/tasks", ...)
    @policy(idempotent=True)
    def create_tasks(): ...

A route without `@policy` needs a bearer token or the session cookie, takes no Idempotency-Key,
and, called with the cookie, must come from our own origin when its method changes state. The
handler reads a route's policy before anything else runs (before Powertools validates the
request, which would otherwise answer a caller it does not know with a 400 rather than a 401),
and the OpenAPI document reads it too, so the two can never disagree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

Handler = TypeVar("Handler", bound=Callable[..., Any])

STATE_CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_ATTRIBUTE = "route_policy"


@dataclass(frozen=True)
class RoutePolicy:
    # Callable without a bearer token or session cookie.
    public: bool = False
    # An Idempotency-Key header makes a retry answer the first answer instead of acting again.
    idempotent: bool = False
    # A browser page of another origin may not call it even without a cookie (signing in to
    # someone else's account from a hostile page: login CSRF).
    same_origin: bool = False
    # Whether a call changes anything: by default, what its method says. A GET that creates
    # something says so, so a cookie may authenticate it only from our own origin.
    changes_state: bool | None = None

    def changes(self, method: str) -> bool:
        return self.changes_state if self.changes_state is not None else method in STATE_CHANGING_METHODS


AUTHENTICATED = RoutePolicy()


def policy(
    *, public: bool = False, idempotent: bool = False, same_origin: bool = False, changes_state: bool | None = None
) -> Callable[[Handler], Handler]:
    """Declares the policy of the route function it decorates (under the route's decorator)."""
    declared = RoutePolicy(public, idempotent, same_origin, changes_state)

    def mark(handler: Handler) -> Handler:
        setattr(handler, _ATTRIBUTE, declared)
        return handler

    return mark


def policy_of(handler: Callable[..., Any] | None) -> RoutePolicy:
    """A route function's declared policy; AUTHENTICATED when it declares none, or for a request
    no route matches (it gets its 404 or 405 once it has said who it is)."""
    found = getattr(handler, _ATTRIBUTE, AUTHENTICATED) if handler is not None else AUTHENTICATED
    return found if isinstance(found, RoutePolicy) else AUTHENTICATED
