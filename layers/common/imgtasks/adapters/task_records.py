"""The record model the workers parse task-queue messages with. A module of its own so the API,
which only sends task messages, does not import Powertools' parser models."""

from __future__ import annotations

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import ConfigDict, Json

from imgtasks.domain.messages import TaskMessage


class TaskMessageRecord(SqsRecordModel):
    """An SQS record of a task queue with its body parsed: the `model` of the workers'
    BatchProcessor, so a body that is not a task message fails that record alone."""

    # Built on the first record, like the service's own models (imgtasks.domain.base).
    model_config = ConfigDict(defer_build=True)

    body: Json[TaskMessage]
