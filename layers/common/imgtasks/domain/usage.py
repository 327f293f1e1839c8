"""What a task used of AWS: the Lambda time of each invocation that worked on it (its share of
invocations that worked on several), and the requests and bytes it caused. Counted by
imgtasks.adapters.metering where the work happens, stored with the task, priced by
imgtasks.domain.prices when shown."""

from __future__ import annotations

from pydantic import Field

from imgtasks.domain.base import Model

# The request classes a price table prices (S3 bills PUT/COPY/POST/LIST apart from GET/HEAD;
# DynamoDB on-demand bills request units, not calls).
REQUEST_CLASSES = (
    "s3_put",
    "s3_get",
    "s3_free",
    "sqs",
    "dynamodb_read_units",
    "dynamodb_write_units",
    "api_gateway",
    "other",
)


class Invocation(Model):
    function: str = Field(description="The function: api, dispatch, upload, process, video, infer or archive")
    memory_mb: int = Field(description="Its memory size (Lambda prices GB-seconds of it)")
    ms: float = Field(description="This task's share of the invocations' run time, in milliseconds")
    share: float = Field(
        description="This task's share of the invocations (1 / the tasks each worked on), summed: "
        "what Lambda's per-request price is multiplied by"
    )
    calls: dict[str, float] = Field(
        default_factory=dict, description="Its AWS calls for the task by service and operation ('s3 PutObject')"
    )
    estimated: bool = Field(
        default=False,
        description="True for the change stream's invocations after dispatch (one a task write): modelled "
        "from the dispatcher's measured time per record, not timed for this task",
    )

    @property
    def gb_seconds(self) -> float:
        return self.memory_mb / 1024 * self.ms / 1000


class Requests(Model):
    """Requests (and DynamoDB request units) made for the task, as the services bill them."""

    s3_put: float = Field(default=0, description="S3 PUT, COPY, POST and LIST requests")
    s3_get: float = Field(default=0, description="S3 GET and HEAD requests")
    s3_free: float = Field(default=0, description="S3 DELETE requests (not billed)")
    sqs: float = Field(default=0, description="SQS requests (one SendMessageBatch is one)")
    dynamodb_read_units: float = Field(default=0, description="DynamoDB read request units, as DynamoDB reported")
    dynamodb_write_units: float = Field(default=0, description="DynamoDB write request units, as DynamoDB reported")
    api_gateway: float = Field(default=0, description="API Gateway requests (a share, for a call that made many)")
    other: float = Field(default=0, description="Other AWS requests (not priced)")

    def plus(self, other: Requests) -> Requests:
        return Requests(**{name: getattr(self, name) + getattr(other, name) for name in REQUEST_CLASSES})

    def scaled(self, share: float) -> Requests:
        return Requests(**{name: getattr(self, name) * share for name in REQUEST_CLASSES})


class Usage(Model):
    invocations: list[Invocation] = Field(
        default_factory=list,
        description="The Lambda invocations that worked on the task (or its share of them), one entry a function",
    )
    requests: Requests = Field(
        default_factory=Requests,
        description="All its requests by price class: the invocations' calls, and Lambda's polling of the "
        "queue (a receive and a delete per batch, shared by the batch's tasks)",
    )
    bytes_read: int = Field(default=0, description="Bytes read from S3 for the task (its input, a logo)")
    bytes_stored: int = Field(default=0, description="Bytes the task's outputs keep in S3")

    def plus(self, other: Usage) -> Usage:
        """Both together; invocations of the same function (and memory, and kind: timed or
        modelled) add up into one entry, so a task retried or restarted many times stays small."""
        merged: dict[tuple[str, int, bool], Invocation] = {}
        for invocation in [*self.invocations, *other.invocations]:
            key = (invocation.function, invocation.memory_mb, invocation.estimated)
            found = merged.get(key)
            if found is None:
                merged[key] = invocation
                continue
            calls = dict(found.calls)
            for name, count in invocation.calls.items():
                calls[name] = calls.get(name, 0) + count
            merged[key] = found.model_copy(
                update={
                    "ms": round(found.ms + invocation.ms, 3),
                    "share": round(found.share + invocation.share, 6),
                    "calls": calls,
                }
            )
        return Usage(
            invocations=list(merged.values()),
            requests=self.requests.plus(other.requests),
            bytes_read=self.bytes_read + other.bytes_read,
            bytes_stored=self.bytes_stored + other.bytes_stored,
        )

    def total_gb_seconds(self) -> float:
        return sum(invocation.gb_seconds for invocation in self.invocations)

    def total_lambda_requests(self) -> float:
        """Lambda bills each request: a task's share of each invocation that worked on it."""
        return sum(invocation.share for invocation in self.invocations)


def with_call(usage: Usage, call: str, count: float, requests: Requests) -> Usage:
    """`usage` (one invocation's share) with a call it is about to make counted in: the write or
    send that carries the usage itself, which cannot count its own request."""
    first = usage.invocations[0]
    call_only = first.model_copy(update={"ms": 0.0, "share": 0.0, "calls": {call: count}})
    return usage.plus(Usage(invocations=[call_only], requests=requests))
