"""Creates the template's resources in the emulator (moto's server or LocalStack) through the real
AWS APIs, in dependency order, and records what each Ref and GetAtt resolves to.

Serverless resources (functions, layers, the HTTP API) are not created in the emulator: the local
stack runs them itself (runtime.py, gateway.py, pollers.py). Their references still resolve."""

from __future__ import annotations

import json
import logging
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from .template import ACCOUNT_ID, REGION, PhysicalResource, Stack

log = logging.getLogger("local_stack.provision")


@dataclass
class Provisioned:
    stack: Stack
    outputs: dict[str, str] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class Provisioner:
    def __init__(self, stack: Stack, session: Any, endpoint_url: str | None, api_url: str = "http://127.0.0.1") -> None:
        """session: a boto3 session, or a localstack-client one (anything whose client(service,
        endpoint_url=...) makes a boto3 client); api_url: where the gateway serves the HTTP API
        (and the WebSocket API, ws:// on the same port)."""
        self.stack = stack
        self.endpoint_url = endpoint_url
        self.api_url = api_url
        self._s3 = session.client("s3", endpoint_url=endpoint_url)
        self._sqs = session.client("sqs", endpoint_url=endpoint_url)
        self._dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
        self._secrets = session.client("secretsmanager", endpoint_url=endpoint_url)
        self._logs = session.client("logs", endpoint_url=endpoint_url)
        self._cloudwatch = session.client("cloudwatch", endpoint_url=endpoint_url)
        self._handlers: dict[str, Callable[[str, dict[str, Any]], PhysicalResource]] = {
            "AWS::S3::Bucket": self._bucket,
            "AWS::SQS::Queue": self._queue,
            "AWS::SQS::QueuePolicy": self._queue_policy,
            "AWS::DynamoDB::Table": self._table,
            "AWS::SecretsManager::Secret": self._secret,
            "AWS::Serverless::Function": self._function,
            "AWS::Serverless::LayerVersion": self._layer,
            "AWS::Serverless::HttpApi": self._http_api,
            "AWS::S3::BucketPolicy": self._bucket_policy,
            "AWS::Logs::LogGroup": self._log_group,
            "AWS::CloudWatch::Alarm": self._alarm,
            "AWS::IAM::ManagedPolicy": self._managed_policy,
            # The distribution and what it uses are named here; the gateway is their stand-in
            # (local_stack/edge.py reads their configuration from the template).
            "AWS::Lambda::Url": self._function_url,
            "AWS::Lambda::Permission": self._named,
            "AWS::CloudFront::OriginAccessControl": self._origin_access_control,
            "AWS::CloudFront::CachePolicy": self._origin_access_control,
            "AWS::CloudFront::Function": self._edge_function,
            "AWS::CloudFront::Distribution": self._distribution,
            # The WebSocket API: the gateway serves it on the API's port (local_stack/gateway.py).
            "AWS::ApiGatewayV2::Api": self._websocket_api,
            "AWS::ApiGatewayV2::Integration": self._named,
            "AWS::ApiGatewayV2::Route": self._named,
            "AWS::ApiGatewayV2::Stage": self._websocket_stage,
            "AWS::CloudWatch::Dashboard": self._dashboard,
        }

    def run(self) -> Provisioned:
        result = Provisioned(stack=self.stack)
        for logical_id in self.stack.creation_order():
            resource = self.stack.resources[logical_id]
            kind = resource["Type"]
            handler = self._handlers.get(kind)
            if handler is None:
                raise NotImplementedError(f"{logical_id}: the local stack cannot create {kind}")
            properties = self.stack.resolve(resource.get("Properties", {}))
            self.stack.physical[logical_id] = handler(logical_id, properties)
            result.created.append(logical_id)
            log.debug("provisioned %s (%s)", logical_id, kind)
        for name, output in self.stack.template.get("Outputs", {}).items():
            result.outputs[name] = str(self.stack.resolve(output["Value"]))
        return result

    def _name(self, logical_id: str) -> str:
        return f"{self.stack.stack_name}-{logical_id}"

    # ------------------------------------------------------------ S3
    def _bucket(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        name = props.get("BucketName") or self._name(logical_id).lower()
        try:
            self._s3.create_bucket(Bucket=name)
        except ClientError as error:
            if _error_code(error) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise
        if "BucketEncryption" in props:
            rules = [
                {
                    "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                    **({"BucketKeyEnabled": rule["BucketKeyEnabled"]} if "BucketKeyEnabled" in rule else {}),
                }
                for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            ]
            self._s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        if "PublicAccessBlockConfiguration" in props:
            self._s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
            )
        if "OwnershipControls" in props:
            self._s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=props["OwnershipControls"])
        if "CorsConfiguration" in props:
            cors_rules = []
            for rule in props["CorsConfiguration"]["CorsRules"]:
                cors: dict[str, Any] = {
                    k: v for k, v in rule.items() if k in ("AllowedMethods", "AllowedOrigins", "AllowedHeaders")
                }
                if "ExposedHeaders" in rule:
                    cors["ExposeHeaders"] = rule["ExposedHeaders"]
                if "MaxAge" in rule:
                    cors["MaxAgeSeconds"] = int(rule["MaxAge"])
                cors_rules.append(cors)
            self._s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": cors_rules})
        if "VersioningConfiguration" in props:
            self._s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=props["VersioningConfiguration"])
        if "LifecycleConfiguration" in props:
            rules = []
            for rule in props["LifecycleConfiguration"]["Rules"]:
                converted: dict[str, Any] = {"ID": rule.get("Id", "rule"), "Status": rule["Status"], "Filter": {}}
                if "AbortIncompleteMultipartUpload" in rule:
                    converted["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
                if "ExpirationInDays" in rule:
                    converted["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
                if "Prefix" in rule:
                    converted["Filter"] = {"Prefix": rule["Prefix"]}
                if "TagFilters" in rule:
                    (tag,) = rule["TagFilters"]  # one tag is a plain Tag filter; more would need an And
                    converted["Filter"] = {"Tag": {"Key": tag["Key"], "Value": tag["Value"]}}
                rules.append(converted)
            self._s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
        if "NotificationConfiguration" in props:
            self._s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration=_notification_configuration(props["NotificationConfiguration"])
            )
        arn = f"arn:aws:s3:::{name}"
        return PhysicalResource(
            ref=name,
            attributes={
                "Arn": arn,
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{REGION}.amazonaws.com",
            },
        )

    # ------------------------------------------------------------ SQS
    def _queue(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        name = props.get("QueueName") or self._name(logical_id)
        attributes: dict[str, str] = {}
        for prop in (
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "DelaySeconds",
            "MaximumMessageSize",
            "ReceiveMessageWaitTimeSeconds",
            "SqsManagedSseEnabled",
            "FifoQueue",
            "ContentBasedDeduplication",
        ):
            if prop in props:
                value = props[prop]
                attributes[prop] = str(value).lower() if isinstance(value, bool) else str(value)
        if "RedrivePolicy" in props:
            policy = props["RedrivePolicy"]
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": policy["deadLetterTargetArn"],
                    "maxReceiveCount": int(policy["maxReceiveCount"]),
                }
            )
        try:
            url = self._sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        except ClientError as error:
            if _error_code(error) not in ("QueueAlreadyExists", "AWS.SimpleQueueService.QueueNameExists"):
                raise
            # Provisioned before (a long-lived LocalStack): bring its attributes up to date.
            url = self._sqs.get_queue_url(QueueName=name)["QueueUrl"]
            self._sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
        arn = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return PhysicalResource(ref=url, attributes={"Arn": arn, "QueueName": name, "QueueUrl": url})

    def _queue_policy(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        for url in props["Queues"]:
            self._sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(props["PolicyDocument"])})
        return PhysicalResource(ref=self._name(logical_id))

    # ------------------------------------------------------------ DynamoDB
    def _table(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        name = props.get("TableName") or self._name(logical_id)
        request: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        if "GlobalSecondaryIndexes" in props:
            request["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if "SSESpecification" in props:
            request["SSESpecification"] = {"Enabled": bool(props["SSESpecification"].get("SSEEnabled"))}
        if "StreamSpecification" in props:
            request["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": props["StreamSpecification"]["StreamViewType"],
            }
        try:
            self._dynamodb.create_table(**request)
            self._dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1})
        except ClientError as error:
            if _error_code(error) != "ResourceInUseException":
                raise
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            try:
                self._dynamodb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
                )
            except ClientError as error:
                if _error_code(error) != "ValidationException":  # already enabled
                    raise
        pitr = props.get("PointInTimeRecoverySpecification")
        if pitr and pitr.get("PointInTimeRecoveryEnabled"):
            self._dynamodb.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
        arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"
        stream_arn = self._dynamodb.describe_table(TableName=name)["Table"].get("LatestStreamArn", "")
        return PhysicalResource(ref=name, attributes={"Arn": arn, "StreamArn": stream_arn})

    # ------------------------------------------------------------ Secrets Manager
    def _secret(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        name = props.get("Name") or self._name(logical_id)
        if "SecretString" in props:
            value = props["SecretString"]
        else:
            generate = props.get("GenerateSecretString", {})
            alphabet = string.ascii_letters + string.digits
            if not generate.get("ExcludePunctuation"):
                alphabet += "!#$%&()*+,-.:;<=>?@[]^_{|}~"
            value = "".join(secrets.choice(alphabet) for _ in range(int(generate.get("PasswordLength", 32))))
        try:
            arn = self._secrets.create_secret(Name=name, SecretString=value, Description=props.get("Description", ""))[
                "ARN"
            ]
        except ClientError as error:
            if _error_code(error) != "ResourceExistsException":
                raise
            arn = self._secrets.describe_secret(SecretId=name)["ARN"]
        return PhysicalResource(ref=arn, attributes={"Id": arn})

    # ------------------------------------------------------------ run by the local stack itself
    def _function(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        name = props.get("FunctionName") or self._name(logical_id)
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"
        return PhysicalResource(ref=name, attributes={"Arn": arn})

    def _function_url(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        """A function URL's host names the function, as Lambda's does (its id there)."""
        function_name = str(props["TargetFunctionArn"]).rsplit(":", 1)[-1]
        return PhysicalResource(
            ref=function_name, attributes={"FunctionUrl": f"https://{function_name}.lambda-url.{REGION}.on.aws/"}
        )

    def _named(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        return PhysicalResource(ref=self._name(logical_id))

    def _origin_access_control(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        """An origin access control or a cache policy: an id, nothing created."""
        return PhysicalResource(ref=self._name(logical_id), attributes={"Id": self._name(logical_id)})

    def _edge_function(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        arn = f"arn:aws:cloudfront::{ACCOUNT_ID}:function/{props['Name']}"
        return PhysicalResource(ref=arn, attributes={"FunctionMetadata.FunctionARN": arn, "FunctionARN": arn})

    def _distribution(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        """The stand-in keeps nothing at an edge: its id is empty, so nothing asks to invalidate it."""
        return PhysicalResource(ref="", attributes={"DomainName": "local-distribution.cloudfront.net", "Id": ""})

    def _layer(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:layer:{self._name(logical_id)}:1"
        return PhysicalResource(ref=arn, attributes={"Arn": arn})

    def _websocket_api(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        endpoint = "ws" + self.api_url.removeprefix("http")
        return PhysicalResource(ref="local-websocket", attributes={"ApiEndpoint": endpoint, "ApiId": "local-websocket"})

    def _websocket_stage(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        return PhysicalResource(ref=str(props["StageName"]))

    def _dashboard(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        name = props.get("DashboardName") or self._name(logical_id)
        self._cloudwatch.put_dashboard(DashboardName=name, DashboardBody=props["DashboardBody"])
        return PhysicalResource(ref=name)

    def _http_api(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        return PhysicalResource(ref="local", attributes={"ApiEndpoint": "http://127.0.0.1"})

    # ------------------------------------------------------------ policies, logs, alarms
    def _bucket_policy(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        """The policy less its TLS-only statements: the local emulator serves plain HTTP, so a
        statement refusing requests without TLS would refuse every request here."""
        document = props["PolicyDocument"]
        statements = [
            statement
            for statement in document.get("Statement", [])
            if "aws:SecureTransport" not in statement.get("Condition", {}).get("Bool", {})
        ]
        if statements:
            self._s3.put_bucket_policy(Bucket=props["Bucket"], Policy=json.dumps({**document, "Statement": statements}))
        else:
            log.info("%s: TLS-only bucket policy not applied (the local emulator is plain HTTP)", logical_id)
        return PhysicalResource(ref=self._name(logical_id))

    def _log_group(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        name = props.get("LogGroupName") or self._name(logical_id)
        try:
            self._logs.create_log_group(logGroupName=name)
        except ClientError as error:
            if _error_code(error) != "ResourceAlreadyExistsException":
                raise
        if "RetentionInDays" in props:
            self._logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
        return PhysicalResource(ref=name, attributes={"Arn": f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{name}"})

    def _managed_policy(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        """Named, not created: the emulator does not enforce IAM (the template's policies are
        checked by the tests that read the template and by IAM on AWS)."""
        return PhysicalResource(ref=_policy_arn(self.stack.stack_name, logical_id))

    def _alarm(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        name = props.get("AlarmName") or self._name(logical_id)
        request = {key: value for key, value in props.items() if key != "AlarmName"}
        for number in ("EvaluationPeriods", "Period", "Threshold", "DatapointsToAlarm"):
            if number in request:
                request[number] = float(request[number]) if number == "Threshold" else int(request[number])
        self._cloudwatch.put_metric_alarm(AlarmName=name, **request)
        return PhysicalResource(ref=name)


def _policy_arn(stack_name: str, logical_id: str) -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:policy/{stack_name}-{logical_id}"


def _notification_configuration(props: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's NotificationConfiguration in the S3 API's shape."""
    converted: dict[str, Any] = {}
    for cfn_key, api_key, target_key, cfn_target in (
        ("QueueConfigurations", "QueueConfigurations", "QueueArn", "Queue"),
        ("TopicConfigurations", "TopicConfigurations", "TopicArn", "Topic"),
        ("LambdaConfigurations", "LambdaFunctionConfigurations", "LambdaFunctionArn", "Function"),
    ):
        entries = []
        for entry in props.get(cfn_key, []):
            item: dict[str, Any] = {target_key: entry[cfn_target], "Events": [entry["Event"]]}
            rules = entry.get("Filter", {}).get("S3Key", {}).get("Rules", [])
            if rules:
                item["Filter"] = {"Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}}
            entries.append(item)
        if entries:
            converted[api_key] = entries
    return converted
