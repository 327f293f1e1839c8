"""The local stack's translation layers: template resolution, the v2 event, responses, batches."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from local_stack.functions import function_specs
from local_stack.gateway import build_event, translate_response
from local_stack.pollers import messages_to_delete
from local_stack.template import PhysicalResource, Stack, load_template
from tests.helpers import ROOT, TEMPLATE


def resolved_stack(template: dict[str, Any], name: str, parameters: dict[str, str] | None = None) -> Stack:
    """The template as a stack whose every resource exists, with made-up attributes: what the
    functions' environments resolve to, without provisioning anything."""
    stack = Stack(template, name, parameters or {})
    attributes = {"Arn": "arn", "QueueName": "q", "StreamArn": "stream", "DomainName": "d", "ApiEndpoint": "wss://e"}
    for logical_id in stack.resources:
        stack.physical[logical_id] = PhysicalResource(ref=logical_id, attributes=attributes)
    return stack


def test_a_json_request_becomes_an_http_api_v2_event() -> None:
    event = build_event(
        "POST",
        "/tasks?limit=5&status=done&status=failed",
        [
            ("Host", "127.0.0.1:3000"),
            ("Content-Type", "application/json"),
            ("Cookie", "a=1; b=2"),
            ("X-Multi", "1"),
            ("X-Multi", "2"),
        ],
        b'{"a": 1}',
        "127.0.0.1",
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/tasks"
    assert event["rawQueryString"] == "limit=5&status=done&status=failed"
    assert event["queryStringParameters"] == {"limit": "5", "status": "done,failed"}
    assert event["headers"]["content-type"] == "application/json"
    assert event["headers"]["x-multi"] == "1,2"
    assert "cookie" not in event["headers"]
    assert event["cookies"] == ["a=1", "b=2"]
    assert (event["body"], event["isBase64Encoded"]) == ('{"a": 1}', False)
    http = event["requestContext"]["http"]
    assert (http["method"], http["path"], http["sourceIp"]) == ("POST", "/tasks", "127.0.0.1")
    assert event["requestContext"]["requestId"]
    assert isinstance(event["requestContext"]["timeEpoch"], int)


def test_a_binary_body_is_base64_encoded() -> None:
    data = bytes(range(256))
    event = build_event("POST", "/files", [("Content-Type", "multipart/form-data; boundary=x")], data, "127.0.0.1")
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == data


def test_a_function_response_becomes_status_headers_cookies_and_body() -> None:
    status, headers, body = translate_response(
        {"statusCode": 302, "headers": {"Location": "http://x"}, "cookies": ["s=1; HttpOnly"], "body": ""}
    )
    assert status == 302
    assert ("Location", "http://x") in headers and ("Set-Cookie", "s=1; HttpOnly") in headers
    assert body == b""
    _, _, binary = translate_response(
        {"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True}
    )
    assert binary == b"\x00\x01"


def test_a_bare_json_answer_means_200_json_as_in_payload_format_2() -> None:
    status, _, body = translate_response({"message": "hi"})
    assert status == 200
    assert json.loads(body) == {"message": "hi"}


def test_partial_batch_failures_keep_only_the_failed_messages() -> None:
    batch = [{"MessageId": "a"}, {"MessageId": "b"}, {"MessageId": "c"}]
    assert messages_to_delete(batch, {"batchItemFailures": [{"itemIdentifier": "b"}]}, True) == [batch[0], batch[2]]
    assert messages_to_delete(batch, {"batchItemFailures": []}, True) == batch
    # An id not in the batch means the response cannot be trusted: keep everything, as Lambda does.
    assert messages_to_delete(batch, {"batchItemFailures": [{"itemIdentifier": "zzz"}]}, True) == []
    assert messages_to_delete(batch, None, True) == batch


def test_template_references_resolve_against_created_resources() -> None:
    stack = Stack(load_template(TEMPLATE), "demo")
    stack.physical["HttpApi"] = PhysicalResource(ref="abc123")
    assert stack.resolve({"Fn::Sub": "${AWS::StackName}-uploads-${AWS::AccountId}"}) == "demo-uploads-123456789012"
    assert stack.resolve({"Ref": "MaxImagePixels"}) == "50000000"
    assert stack.resolve({"Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}) == (
        "https://abc123.execute-api.us-east-1.amazonaws.com"
    )


def test_queues_are_created_before_the_bucket_that_notifies_them() -> None:
    order = Stack(load_template(TEMPLATE), "demo").creation_order()
    assert order.index("UploadEventsQueue") < order.index("UploadEventsQueuePolicy") < order.index("UploadsBucket")
    assert order.index("UploadEventsDeadLetterQueue") < order.index("UploadEventsQueue")
    assert order.index("ProcessDeadLetterQueue") < order.index("ProcessQueue")


def test_queue_visibility_is_at_least_six_times_the_function_timeout() -> None:
    template = load_template(TEMPLATE)
    pairs = (
        ("ProcessFunction", "ProcessQueue"),
        ("VideoFunction", "VideoQueue"),
        ("FetchFunction", "FetchQueue"),
        ("ArchiveFunction", "ArchiveQueue"),
        ("WebhookDeliveryFunction", "WebhookQueue"),
        ("InferFunction", "InferQueue"),
        ("UploadFunction", "UploadEventsQueue"),
    )
    for function, queue in pairs:
        timeout = template["Resources"][function]["Properties"]["Timeout"]
        properties = template["Resources"][queue]["Properties"]
        assert properties["VisibilityTimeout"] >= 6 * timeout


def test_every_redrive_policy_and_every_function_takes_max_receive_count_from_the_one_parameter() -> None:
    template = load_template(TEMPLATE)
    assert template["Parameters"]["MaxReceiveCount"]["Default"] == 3
    redrives = [
        resource["Properties"]["RedrivePolicy"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in resource["Properties"]
    ]
    assert len(redrives) == 7
    assert all(policy["maxReceiveCount"] == {"Ref": "MaxReceiveCount"} for policy in redrives)
    environment = template["Globals"]["Function"]["Environment"]["Variables"]
    assert environment["MAX_RECEIVE_COUNT"] == {"Ref": "MaxReceiveCount"}
    stack = resolved_stack(template, "demo")
    for spec in function_specs(stack, TEMPLATE.parent):
        assert spec.environment["MAX_RECEIVE_COUNT"] == "3", spec.logical_id


def test_every_variable_a_function_reads_is_declared_for_it_in_the_template() -> None:
    from imgtasks.settings import (
        ApiSettings,
        CacheSweepSettings,
        ConnectionSettings,
        EventsSettings,
        FunctionSettings,
        InferSettings,
        ProcessSettings,
        RenderSettings,
    )

    stack = resolved_stack(load_template(TEMPLATE), "demo")
    specs = {spec.logical_id: spec for spec in function_specs(stack, TEMPLATE.parent)}
    read_by = {
        "ApiFunction": ApiSettings,
        "ProcessFunction": ProcessSettings,
        "VideoFunction": ProcessSettings,
        "FetchFunction": FunctionSettings,
        "ArchiveFunction": FunctionSettings,
        "WebhookEventsFunction": EventsSettings,
        "ConnectionsFunction": ConnectionSettings,
        "RenderFunction": RenderSettings,
        "WebhookDeliveryFunction": FunctionSettings,
        "InferFunction": InferSettings,
        "UploadFunction": FunctionSettings,
        "DeadLetterFunction": FunctionSettings,
        "DeadUploadFunction": FunctionSettings,
        "DeadDeliveryFunction": FunctionSettings,
        "DispatchFunction": CacheSweepSettings,
    }
    assert set(read_by) == set(specs)
    for logical_id, settings in read_by.items():
        declared = {name.lower() for name in specs[logical_id].environment}
        assert set(settings.model_fields) <= declared, logical_id


def test_the_template_carries_the_operational_guard_rails() -> None:
    resources = load_template(TEMPLATE)["Resources"]

    def of_type(kind: str) -> dict[str, Any]:
        return {name: r for name, r in resources.items() if r["Type"] == kind}

    functions = of_type("AWS::Serverless::Function")
    log_groups = [r["Properties"] for r in of_type("AWS::Logs::LogGroup").values()]
    named = {str(p.get("LogGroupName", {}).get("Fn::Sub", "")) for p in log_groups}
    assert {f"/aws/lambda/${{{name}}}" for name in functions} <= named
    assert all(p["RetentionInDays"] == {"Ref": "LogRetentionDays"} for p in log_groups)
    tls_only = {r["Properties"]["Bucket"]["Ref"] for r in of_type("AWS::S3::BucketPolicy").values()}
    assert tls_only == set(of_type("AWS::S3::Bucket"))
    alarmed = {
        str(d["Value"]) for r in of_type("AWS::CloudWatch::Alarm").values() for d in r["Properties"]["Dimensions"]
    }
    for queue in ("ProcessDeadLetterQueue", "InferDeadLetterQueue", "UploadEventsDeadLetterQueue"):
        assert (
            str({"Fn::GetAtt": [queue, "QueueName"]}) in alarmed or str({"Fn::GetAtt": f"{queue}.QueueName"}) in alarmed
        )
    for worker in ("ProcessFunction", "InferFunction", "UploadFunction"):
        properties = functions[worker]["Properties"]
        assert properties["ReservedConcurrentExecutions"] == {"Ref": "WorkerConcurrency"}
        assert str({"Ref": worker}) in alarmed
    cors = resources["UploadsBucket"]["Properties"]["CorsConfiguration"]["CorsRules"][0]
    assert cors["AllowedOrigins"] == {"Ref": "AllowedOrigins"}
    assert "AccessLogSettings" in resources["HttpApi"]["Properties"]
    # A deleted stack or a replaced table or bucket keeps its data (a replacement once deleted
    # every record).
    for name, resource in {**of_type("AWS::S3::Bucket"), **of_type("AWS::DynamoDB::Table")}.items():
        assert (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy")) == ("Retain", "Retain"), name


def test_each_function_has_the_rights_its_code_paths_use_and_no_more() -> None:
    resources = load_template(TEMPLATE)["Resources"]
    functions = {name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}

    def policies(name: str) -> str:
        """The function's policies, a managed policy of the template by its document."""
        listed = functions[name].get("Policies", [])
        return json.dumps(
            [resources[p["Ref"]]["Properties"]["PolicyDocument"] if set(p) == {"Ref"} else p for p in listed]
        )

    # Only the dispatcher sends task and fetch messages: nothing else writes a record and then
    # sends. The webhook functions send only to the webhook queue (events and their retries).
    def queues_sent_to(name: str) -> set[str]:
        sends = [p["SQSSendMessagePolicy"] for p in functions[name].get("Policies", []) if "SQSSendMessagePolicy" in p]
        return {send["QueueName"]["Fn::GetAtt"][0] for send in sends}

    senders = {name: queues_sent_to(name) for name in functions if "SQSSendMessagePolicy" in policies(name)}
    assert senders == {
        "DispatchFunction": {"ProcessQueue", "InferQueue", "VideoQueue", "FetchQueue", "ArchiveQueue"},
        "WebhookEventsFunction": {"WebhookQueue"},
        "WebhookDeliveryFunction": {"WebhookQueue"},
    }
    # Infer tasks may run on outputs, which live in the results bucket.
    assert '"BucketName": {"Ref": "ResultsBucket"}' in policies("InferFunction")
    # The API touches objects, never bucket configuration.
    assert "S3CrudPolicy" not in json.dumps(resources)  # it grants bucket lifecycle and ACL changes
    api_statements = json.loads(policies("ApiFunction"))
    writes = [
        statement
        for policy in api_statements
        for statement in policy.get("Statement", [])
        if "s3:PutObject" in statement["Action"]
    ]
    # The API writes under files/ (small uploads) and signs POSTs for uploads/, nowhere else.
    assert [str(resource) for statement in writes for resource in statement["Resource"]] == [
        str({"Fn::Sub": "${UploadsBucket.Arn}/files/*"}),
        str({"Fn::Sub": "${UploadsBucket.Arn}/uploads/*"}),
    ]
    # Guests: the API and the upload function tag a guest's uploads, the workers its outputs (for
    # the buckets' guest-data lifecycle rule); only the API untags (a claimed account).
    for name in ("ApiFunction", "UploadFunction", "ProcessFunction", "VideoFunction", "ArchiveFunction"):
        assert "s3:PutObjectTagging" in policies(name), name
    assert [name for name in functions if "s3:DeleteObjectTagging" in policies(name)] == ["ApiFunction"]
    # A ZIP's multipart upload is aborted when the archive fails half-way (not in S3CrudPolicy).
    assert "s3:AbortMultipartUpload" in policies("ArchiveFunction")
    # The dead-letter functions only write the table.
    for name in ("DeadLetterFunction", "DeadUploadFunction", "DeadDeliveryFunction"):
        assert functions[name]["Policies"] == [{"Ref": "TableReadWritePolicy"}]


def test_the_emulator_endpoint_variable_is_left_out_unless_the_parameter_sets_it() -> None:
    def environment(parameters: dict[str, str]) -> dict[str, str]:
        stack = resolved_stack(load_template(TEMPLATE), "demo", parameters)
        return next(
            spec for spec in function_specs(stack, TEMPLATE.parent) if spec.logical_id == "ApiFunction"
        ).environment

    assert "AWS_ENDPOINT_URL" not in environment({})
    assert environment({"EmulatorEndpointUrl": "http://127.0.0.1:4566"})["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"


def test_calls_are_named_by_service_and_operation_and_reads_leave_the_state_alone() -> None:
    from local_stack.emulator import changes_state, describe_call

    signed = "AWS4-HMAC-SHA256 Credential=test/20261123/us-east-1/dynamodb/aws4_request, SignedHeaders=host"
    put = {"HTTP_AUTHORIZATION": signed, "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.PutItem", "REQUEST_METHOD": "POST"}
    get = {**put, "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.GetItem"}
    presigned = {
        "QUERY_STRING": "X-Amz-Credential=test%2F20261123%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=x",
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/bucket/results/a.jpg",
    }
    browser_post = {"REQUEST_METHOD": "POST", "PATH_INFO": "/bucket"}
    assert describe_call(put) == ("dynamodb", "PutItem")
    assert describe_call(presigned) == ("s3", "GET object")
    assert describe_call(browser_post) == ("s3", "POST bucket")
    assert changes_state("dynamodb", "PutItem", "POST") is True
    assert changes_state("dynamodb", "GetItem", "POST") is False
    assert changes_state(*describe_call(get), "POST") is False
    assert changes_state("s3", "GET object", "GET") is False
    assert changes_state("s3", "POST bucket", "POST") is True
    assert changes_state("sqs", "ReceiveMessage", "POST") is None  # only its answer tells


def test_a_function_pool_never_starts_more_workers_than_its_concurrency(monkeypatch: pytest.MonkeyPatch) -> None:
    """Twenty invocations that find no idle worker at once start at most max_concurrency workers
    (each start takes a while, as a process's does)."""
    from local_stack import runtime
    from local_stack.functions import FunctionSpec

    class SlowToStart:
        def __init__(self, *_: object) -> None:
            time.sleep(0.05)

        def alive(self) -> bool:
            return True

    monkeypatch.setattr(runtime, "_Worker", SlowToStart)
    spec = FunctionSpec("Api", "api", "module.handler", Path(), (), {}, 3, 128)
    pool = runtime.FunctionPool(spec, "http://127.0.0.1:1", 2, runtime.this_python(), max_concurrency=8, warm=1)
    takers = [threading.Thread(target=pool._take) for _ in range(20)]
    for taker in takers:
        taker.start()
    time.sleep(1.0)
    pool._closed.set()
    for taker in takers:
        taker.join()
    assert len(pool._all) == 8


def test_the_table_policies_grant_the_calls_the_code_makes_and_no_scan() -> None:
    """Every DynamoDB call in the code (a boto3 table's or client's method) is an action of the
    table policy, and nothing grants Scan (SAM's DynamoDBCrudPolicy once gave every function it)."""
    resources = load_template(TEMPLATE)["Resources"]

    def actions(policy: str) -> set[str]:
        statements = resources[policy]["Properties"]["PolicyDocument"]["Statement"]
        return {action.removeprefix("dynamodb:") for statement in statements for action in statement["Action"]}

    calls = set()
    for path in [*ROOT.joinpath("layers").rglob("*.py"), *ROOT.joinpath("functions").rglob("*.py")]:
        found = re.findall(
            r"\.(get_item|put_item|update_item|delete_item|query|scan|batch_get_item|batch_write_item|"
            r"transact_write_items|transact_get_items)\(",
            path.read_text(),
        )
        calls |= {"".join(word.title() for word in call.split("_")) for call in found}
    assert calls, "no DynamoDB call found: the pattern is wrong"
    assert calls <= actions("TableReadWritePolicy"), calls - actions("TableReadWritePolicy")
    assert actions("TableReadPolicy") <= actions("TableReadWritePolicy")
    assert actions("IdempotencyTablePolicy") == {"GetItem", "PutItem", "UpdateItem", "DeleteItem"}  # Powertools'
    text = json.dumps(resources)
    assert "dynamodb:Scan" not in text and "DynamoDBCrudPolicy" not in text and "DynamoDBReadPolicy" not in text


def test_a_call_is_named_by_the_iam_actions_that_authorize_it_and_the_function_that_signed_it() -> None:
    from local_stack.emulator import iam_actions, signing_function

    def call(method: str, path: str, query: str = "", **headers: str) -> dict[str, str]:
        return {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, **headers}

    tagged_put = call("PUT", "/bucket/key", HTTP_X_AMZ_TAGGING="guest=1")
    assert iam_actions("s3", "PUT object", tagged_put) == ["s3:PutObject", "s3:PutObjectTagging"]
    assert iam_actions("s3", "DELETE object", call("DELETE", "/bucket/key", "uploadId=7")) == [
        "s3:AbortMultipartUpload"
    ]
    assert iam_actions("s3", "POST bucket", call("POST", "/bucket", "delete")) == ["s3:DeleteObject"]
    assert iam_actions("s3", "HEAD object", call("HEAD", "/bucket/key")) == ["s3:GetObject"]
    assert iam_actions("s3", "DELETE object", call("DELETE", "/bucket/key", "tagging")) == ["s3:DeleteObjectTagging"]
    assert iam_actions("sqs", "SendMessageBatch", call("POST", "/")) == ["sqs:SendMessage"]
    assert iam_actions("dynamodb", "TransactWriteItems", call("POST", "/")) == ["dynamodb:TransactWriteItems"]
    scope = "/20261202/us-east-1/s3/aws4_request"
    signed = {"HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential=fn-ApiFunction{scope}, SignedHeaders=host"}
    presigned = {"QUERY_STRING": "X-Amz-Credential=fn-ApiFunction" + scope.replace("/", "%2F")}
    assert (signing_function(signed), signing_function(presigned)) == ("ApiFunction", "ApiFunction")
    assert signing_function({"HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential=test{scope}"}) is None


def test_stream_sources_pass_only_the_records_their_filter_criteria_let_through() -> None:
    from local_stack.pollers import wanted_by

    stack = resolved_stack(load_template(TEMPLATE), "demo")
    sources = {
        spec.logical_id: source.filters
        for spec in function_specs(stack, TEMPLATE.parent)
        for source in spec.stream_sources
    }
    assert set(sources) == {"DispatchFunction", "WebhookEventsFunction"}

    def record(event: str, sk: str, **image: dict[str, str]) -> dict[str, Any]:
        change: dict[str, Any] = {"Keys": {"PK": {"S": f"{sk}#1"}, "SK": {"S": sk}}, "SequenceNumber": "1"}
        change.update({("OldImage" if event == "REMOVE" else "NewImage"): {"SK": {"S": sk}, **image}})
        return {"eventName": event, "dynamodb": change}

    progress = record("MODIFY", "TASK", status={"S": "running"})
    deleted_key = record("REMOVE", "SIGNINGKEY")
    counters = record("MODIFY", "TASKCOUNTS")
    connection = record("INSERT", "WSCONN")
    activity = record("MODIFY", "07:42")
    for name, filters in sources.items():
        assert wanted_by(filters, progress), name
        assert not any(wanted_by(filters, r) for r in (counters, connection, activity)), name
    assert wanted_by(sources["DispatchFunction"], deleted_key)
    assert not wanted_by(sources["WebhookEventsFunction"], deleted_key)


def test_idle_long_polls_take_turns_and_a_received_message_hands_the_turn_on() -> None:
    """Against another endpoint, the pollers of one source long-poll one at a time while the
    queue is empty; once one receives a message, another polls while it delivers, so two
    messages run side by side."""
    from local_stack.functions import SqsSource
    from local_stack.pollers import IdleTurn, SqsPoller

    class Queue:  # SQS's receive, as a boto3 client answers it (the boundary of the poller)
        def __init__(self) -> None:
            self.messages: list[dict[str, Any]] = []
            self.lock = threading.Lock()
            self.polling = 0
            self.most_polling = 0

        def receive_message(self, WaitTimeSeconds: int, **_: Any) -> dict[str, Any]:  # noqa: N803 - boto3 names it
            with self.lock:
                if self.messages:
                    return {"Messages": [self.messages.pop(0)]}
                self.polling += 1
                self.most_polling = max(self.most_polling, self.polling)
            time.sleep(0.02 if WaitTimeSeconds else 0)
            with self.lock:
                self.polling -= 1
            return {}

        def delete_message_batch(self, **_: Any) -> None:
            pass

    class Worker:  # an invocation that lasts until released
        spec = type("Spec", (), {"logical_id": "Process"})
        running = 0
        most_running = 0
        release = threading.Event()

        def invoke(self, _event: dict[str, Any]) -> Any:
            Worker.running += 1
            Worker.most_running = max(Worker.most_running, Worker.running)
            Worker.release.wait(5)
            Worker.running -= 1
            return type("Result", (), {"stopped": False, "ok": True, "payload": None})

    queue, worker, stop, turn = Queue(), Worker(), threading.Event(), IdleTurn()
    source = SqsSource("Messages", "arn:aws:sqs:us-east-1:000000000000:q", 1, 0, False)
    pollers = [SqsPoller(queue, "http://q", source, worker, stop, turn=turn) for _ in range(3)]  # type: ignore[arg-type]
    for poller in pollers:
        poller.start()
    try:
        time.sleep(0.5)
        assert queue.most_polling == 1  # one long poll at a time while the queue is empty
        with queue.lock:
            queue.messages += [{"MessageId": str(n), "ReceiptHandle": str(n), "Body": "{}"} for n in range(2)]
        deadline = time.monotonic() + 3
        while Worker.most_running < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert Worker.most_running == 2  # the second message did not wait for the first
    finally:
        Worker.release.set()
        stop.set()
        for poller in pollers:
            poller.join(5)
    assert not any(poller.is_alive() for poller in pollers)
