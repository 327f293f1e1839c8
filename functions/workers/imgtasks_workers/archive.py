"""The archive function: archive tasks from the archive queue, one at a time: claimed, built
(imgtasks.services.archives: the outputs of the caller's done tasks streamed into one ZIP in the
results bucket) and completed, through the task lifecycle. A repeated delivery writes the same key
and file id: it overwrites, never adds."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from imgtasks.domain.messages import TaskMessage
from imgtasks.kinds.archive import ARCHIVE, ArchiveTask
from imgtasks.observability import logger, metrics
from imgtasks.wiring import wiring

from .batches import handle_batch


def run(message: TaskMessage, receive_count: int) -> None:
    archives = wiring().archives
    wiring().lifecycle.run(message, receive_count, ARCHIVE, ArchiveTask, archives.build, discard=archives.discard)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return handle_batch(event, context, "archive", run)
