"""The totals of the list endpoints: how many of a user's tasks (or files) have a status, a type
and a format, kept by the change stream (imgtasks_dispatch) as counters instead of counted.

Each record counts once in every combination of its facets and the wildcard `*`, so any filter
of GET /tasks (status, type, format, each given or not) is one counter: a task `done`, `process`,
writing `webp` and `jpeg` adds one to `done|process|webp`, `*|process|webp`, `done|*|*`, `*|*|*`
and the eight others. A change of a record is the difference of its old and new combinations: a
status move takes one from the old status's counters and adds one to the new one's; a progress
write changes nothing and costs no write."""

from __future__ import annotations

from collections import Counter
from itertools import product
from typing import Any

ANY = "*"
TASK_COUNTS = "TASKCOUNTS"
FILE_COUNTS = "FILECOUNTS"


def counter_name(*facets: str | None) -> str:
    """The counter of one filter: each facet given or ANY."""
    return "|".join(facet or ANY for facet in facets)


def _combinations(*facets: list[str]) -> list[str]:
    """Every counter a record with these facet values counts in (a facet with several values, a
    task's formats, counts once in each)."""
    choices = [[*dict.fromkeys(values), ANY] for values in facets]
    return ["|".join(combination) for combination in product(*choices)]


def counted_facets(image: dict[str, Any] | None) -> tuple[str, str, list[str]] | None:
    """(the owner, which counters, the counter names) of a stream image of a task or a file;
    None for any other item."""
    if not image or "owner_id" not in image:
        return None
    owner = str(image["owner_id"])
    status = str(image.get("status", ""))
    if image.get("SK") == "TASK":
        formats = [str(value) for value in image.get("formats") or []]
        return owner, TASK_COUNTS, _combinations([status], [str(image.get("type", ""))], formats)
    if image.get("SK") == "FILE":
        found = image.get("format")
        return owner, FILE_COUNTS, _combinations([status], [str(found)] if found else [])
    return None


def count_changes(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[tuple[str, str], dict[str, int]]:
    """What one change of a record does to its owner's counters: {(owner, counters): {name: delta}},
    without the names whose delta is zero (a progress write is nothing at all)."""
    changes: dict[tuple[str, str], Counter[str]] = {}
    for image, sign in ((old, -1), (new, 1)):
        found = counted_facets(image)
        if found is None:
            continue
        owner, counters, names = found
        deltas = changes.setdefault((owner, counters), Counter())
        for name in names:
            deltas[name] += sign
    return {
        key: {name: delta for name, delta in deltas.items() if delta}
        for key, deltas in changes.items()
        if any(deltas.values())
    }


# ------------------------------------------------------------------ activity (GET /admin/stats)
ACTIVITY_DAYS = 8


def activity_bucket(image: dict[str, Any]) -> tuple[str, str]:
    """(the day, the minute) a change of a task happened: its updated_at."""
    when = str(image.get("updated_at") or image.get("created_at") or "")
    return when[:10], when[11:16]


def activity_changes(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, int]:
    """What a change of a task adds to the minute it happened in, for the operators' figures:
    `created|<type>` for a new task, `<status>|<type>` for each status it reached, `code|<code>`
    for a failure."""
    if not new or new.get("SK") != "TASK":
        return {}
    task_type = str(new.get("type", ""))
    status = str(new.get("status", ""))
    found: dict[str, int] = {}
    if not old:  # an INSERT (a stream record's missing image may read as empty)
        found[f"created|{task_type}"] = 1
    elif old.get("status") != status:
        found[f"{status}|{task_type}"] = 1
        error = new.get("error")
        if status == "failed" and isinstance(error, dict) and error.get("code"):
            found[f"code|{error['code']}"] = 1
    return found
