"""Time as the API shows it: RFC 3339, UTC, millisecond precision, with a Z."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_rfc3339() -> str:
    return to_rfc3339(utc_now())


def parse_rfc3339(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def millis_between(start: str, end: str) -> int:
    return int((parse_rfc3339(end) - parse_rfc3339(start)).total_seconds() * 1000)
