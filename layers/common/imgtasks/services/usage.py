"""GET /usage and GET /admin/usage: a user's (or every user's) usage and its cost per day and type
of task, from the sums the change stream keeps (imgtasks.domain.usage_totals)."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import Field

from imgtasks.adapters.repositories.usage import UsageRepository
from imgtasks.domain.base import Model
from imgtasks.domain.clock import now_rfc3339
from imgtasks.domain.errors import InvalidInput
from imgtasks.domain.prices import READ_ON, prices_for, running_region
from imgtasks.domain.usage_totals import UsageDay, day_rows

DEFAULT_DAYS = 30
MAX_DAYS = 366
# The operators' view reads one partition a day: a shorter reach.
MAX_DAYS_EVERYONE = 92


class UsageTotal(Model):
    tasks: int
    cost_usd: float
    lambda_gb_seconds: float
    requests: float
    dynamodb_request_units: float
    bytes_stored: int
    storage_usd_per_month: float


class PricedPeriod(Model):
    """The days a report covers and the prices it used."""

    first_day: str = Field(description="The first day counted (UTC)")
    last_day: str = Field(description="The last day counted (UTC), inclusive")
    region: str = Field(description="The region whose prices were used")
    prices_read_on: str


def _period(start: date, end: date, region: str) -> dict[str, str]:
    return {"first_day": start.isoformat(), "last_day": end.isoformat(), "region": region, "prices_read_on": READ_ON}


class UsageReport(PricedPeriod):
    days: list[UsageDay] = Field(description="One row per day and type of task that had any usage")
    total: UsageTotal


class UserUsage(Model):
    user_id: str
    days: list[UsageDay]
    total: UsageTotal


class EveryonesUsage(PricedPeriod):
    users: list[UserUsage] = Field(description="Every user with usage in the range, the costliest first")
    total: UsageTotal


def _total(rows: list[UsageDay]) -> UsageTotal:
    return UsageTotal(
        tasks=sum(row.tasks for row in rows),
        cost_usd=sum(row.cost_usd for row in rows),
        lambda_gb_seconds=sum(row.lambda_gb_seconds for row in rows),
        requests=sum(row.requests for row in rows),
        dynamodb_request_units=sum(row.dynamodb_request_units for row in rows),
        bytes_stored=sum(row.bytes_stored for row in rows),
        storage_usd_per_month=sum(row.storage_usd_per_month for row in rows),
    )


def day_range(first: str | None, last: str | None, longest: int) -> tuple[date, date]:
    """The days asked for: `to` defaults to today, `from` to DEFAULT_DAYS before it."""
    try:
        end = date.fromisoformat(last) if last else date.fromisoformat(now_rfc3339()[:10])
        start = date.fromisoformat(first) if first else end - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError as error:
        raise InvalidInput(f"from and to are days, YYYY-MM-DD: {error}") from error
    if start > end:
        raise InvalidInput(f"from ({start}) is after to ({end})")
    if (end - start).days + 1 > longest:
        raise InvalidInput(f"at most {longest} days at a time; asked for {(end - start).days + 1}")
    return start, end


class UsageService:
    def __init__(self, records: UsageRepository) -> None:
        self._records = records

    def of_user(self, owner_id: str, first: str | None, last: str | None) -> UsageReport:
        start, end = day_range(first, last, MAX_DAYS)
        region, _ = prices_for(running_region())
        rows = [
            row
            for day, stored in sorted(self._records.days(owner_id, start.isoformat(), end.isoformat()).items())
            for row in day_rows(day, stored, region)
        ]
        return UsageReport(**_period(start, end, region), days=rows, total=_total(rows))

    def of_everyone(self, first: str | None, last: str | None) -> EveryonesUsage:
        start, end = day_range(first, last, MAX_DAYS_EVERYONE)
        region, _ = prices_for(running_region())
        by_user: dict[str, list[UsageDay]] = {}
        day = start
        while day <= end:
            for user_id, stored in self._records.users(day.isoformat()).items():
                by_user.setdefault(user_id, []).extend(day_rows(day.isoformat(), stored, region))
            day += timedelta(days=1)
        users = [UserUsage(user_id=user_id, days=rows, total=_total(rows)) for user_id, rows in by_user.items()]
        users.sort(key=lambda user: -user.total.cost_usd)
        every_row = [row for user in users for row in user.days]
        return EveryonesUsage(**_period(start, end, region), users=users, total=_total(every_row))
