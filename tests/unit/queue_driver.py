"""Takes messages from a (mocked) queue and hands them to a handler as Lambda's SQS poller does,
deleting only what the handler did not report as failed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from local_stack.pollers import messages_to_delete, sqs_record, stream_checkpoint, stream_record
from tests.helpers import FakeLambdaContext


class QueueDriver:
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        handler: Callable[[dict[str, Any], Any], Any],
        *,
        upstream: QueueDriver | None = None,
        dispatcher: StreamDriver | None = None,
    ) -> None:
        self.sqs = sqs
        self.url = queue_url
        self.handler = handler
        # A queue whose handler feeds this one (upload events release tasks): drained first each round.
        self.upstream = upstream
        # The table's change stream, which sends task messages: read before each receive.
        self.dispatcher = dispatcher
        self.arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def receive(self, max_messages: int = 10) -> list[dict[str, Any]]:
        if self.dispatcher is not None:
            self.dispatcher.drain()
        response = self.sqs.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=max_messages,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        )
        return list(response.get("Messages", []))

    def deliver(self, messages: list[dict[str, Any]]) -> Any:
        """The handler's answer; an invocation that raised (as Powertools does when every record
        of a batch failed) answers {"invocationError": ...} and, as in Lambda, deletes nothing."""
        try:
            result = self.handler({"Records": [sqs_record(m, self.arn) for m in messages]}, FakeLambdaContext())
        except Exception as error:
            return {"invocationError": str(error)}
        done = messages_to_delete(messages, result, reports_failures=True)
        for message in done:
            self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return result

    def drain(self, rounds: int = 5) -> int:
        """Delivers everything waiting (and what that enqueues), returning how many were handled."""
        handled = 0
        for _ in range(rounds):
            upstream = self.upstream.drain(rounds) if self.upstream else 0
            messages = self.receive()
            if messages:
                self.deliver(messages)
            if not messages and not upstream:
                break
            handled += upstream + len(messages)
        return handled

    def send_raw(self, body: str) -> None:
        self.sqs.send_message(QueueUrl=self.url, MessageBody=body)


def returned_to_queue(result: Any, messages: list[dict[str, Any]]) -> list[str]:
    """The ids of the messages SQS will deliver again after this answer."""
    if "invocationError" in result:
        return [m["MessageId"] for m in messages]
    return [str(item["itemIdentifier"]) for item in result.get("batchItemFailures", [])]


class StreamDriver:
    """Reads the table's change stream on from where it stopped and hands the records to a handler
    (the dispatch function) as Lambda's poller does: the position moves on only past what the
    handler did not report failed."""

    def __init__(self, dynamodb: Any, streams: Any, table_name: str, handler: Callable[[dict[str, Any], Any], Any]):
        self.streams = streams
        self.arn = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self.handler = handler
        self.checkpoints: dict[str, str] = {}

    def drain(self) -> int:
        handled = 0
        shards = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        for shard in (s["ShardId"] for s in shards):
            while True:
                position: dict[str, Any] = {"ShardIteratorType": "TRIM_HORIZON"}
                if shard in self.checkpoints:
                    position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self.checkpoints[shard]}
                iterator = self.streams.get_shard_iterator(StreamArn=self.arn, ShardId=shard, **position)
                records = self.streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=100)["Records"]
                if not records:
                    break
                batch = [stream_record(record, self.arn) for record in records]
                try:
                    result = self.handler({"Records": batch}, FakeLambdaContext())
                except Exception:  # every record failed (Powertools raises): the invocation failed
                    break
                done = stream_checkpoint(batch, result, reports_failures=True)
                if done is not None:
                    self.checkpoints[shard] = done
                    handled += [r["dynamodb"]["SequenceNumber"] for r in batch].index(done) + 1
                if done != batch[-1]["dynamodb"]["SequenceNumber"]:
                    break  # a failure: the rest waits for the next drain, as after a back-off
        return handled
