"""Checking a webhook's signature (Standard Webhooks 1.0) before trusting its body."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from .errors import ImgtasksError


class InvalidSignature(ImgtasksError):
    """The body was not signed with the secret, was changed, or is too old (a replay)."""


def verify(headers: Mapping[str, str], body: bytes | str, secret: str) -> Any:
    """The event (parsed JSON) when `webhook-id`, `webhook-timestamp` and `webhook-signature`
    prove it came from imgtasks with `secret` (whsec_...) within the last five minutes; raises
    InvalidSignature otherwise."""
    lowered = {name.lower(): value for name, value in headers.items()}
    payload = body.decode() if isinstance(body, bytes) else body
    try:
        Webhook(secret).verify(payload, lowered)
    except WebhookVerificationError as error:
        raise InvalidSignature(0, f"the webhook is not signed by imgtasks: {error}") from error
    return json.loads(payload)
