"""What a kind of task declares (TaskKind), and the part of a POST /tasks body its kinds share:
the files a task works on (archive tasks, made by POST /archives, work on tasks instead)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from imgtasks.adapters.outbound import MAX_URL_LENGTH, WEB_URL_PATTERN
from imgtasks.domain.base import StrictModel
from imgtasks.domain.ids import ID_PATTERN

MAX_FILES_PER_REQUEST = 50


@dataclass(frozen=True)
class TaskKind:
    """A kind of task: which tasks it runs, the queue they wait in and the function that runs them.
    The dispatcher sends a task to its kind's queue; a test checks the template agrees (the
    function exists, reads that queue, and has this handler)."""

    # Also the task record's `kind`.
    name: str
    # The API's `type` of the tasks it runs.
    task_type: str
    # The FunctionSettings field holding its queue's URL (the template's environment variable).
    queue_url_setting: str
    # The template's function that runs it, and that function's Handler.
    function: str
    handler: str


FileIds = Annotated[
    list[Annotated[str, Field(pattern=ID_PATTERN)]], Field(default_factory=list, max_length=MAX_FILES_PER_REQUEST)
]
_WEB_URL = re.compile(WEB_URL_PATTERN)


def _web_url(url: str) -> str:
    # The pattern is in the document; a person gets this sentence rather than the pattern.
    if not _WEB_URL.fullmatch(url):
        raise ValueError(
            "must be an http or https URL with a host (a name in ASCII, an IPv4 address or an IPv6 one "
            "in brackets) and a port up to 65535, e.g. https://example.com/photo.jpg"
        )
    return url


# A URL a client gives the service to fetch or to post events to.
WebUrl = Annotated[
    str,
    Field(min_length=1, max_length=MAX_URL_LENGTH, json_schema_extra={"pattern": WEB_URL_PATTERN}),
    AfterValidator(_web_url),
]
Urls = Annotated[
    list[WebUrl],
    Field(default_factory=list, max_length=MAX_FILES_PER_REQUEST, description="Files to fetch (URL ingest)"),
]
SOURCE_FIELDS = frozenset({"type", "file_ids", "urls", "webhook"})


class FileSources(StrictModel):
    """The files a POST /tasks works on: ids of files, URLs to fetch, or both (1 to 50 in all)."""

    # The document states "at least one" (a sum of two lists' lengths is beyond JSON Schema), as
    # `allOf` of a `not`: an anyOf here would split a generated client's class in two.
    model_config = ConfigDict(
        json_schema_extra={"allOf": [{"not": {"properties": {"file_ids": {"maxItems": 0}, "urls": {"maxItems": 0}}}}]}
    )

    file_ids: FileIds
    urls: Urls
    webhook: WebUrl | None = Field(
        default=None,
        description="A URL this task's events are posted to, signed with the caller's webhook secret",
    )

    @model_validator(mode="after")
    def _one_to_fifty(self) -> FileSources:
        count = len(self.file_ids) + len(self.urls)
        if not 1 <= count <= MAX_FILES_PER_REQUEST:
            raise ValueError(f"name 1 to {MAX_FILES_PER_REQUEST} files in file_ids and urls together (got {count})")
        return self
