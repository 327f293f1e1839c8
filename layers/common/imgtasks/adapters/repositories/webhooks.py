"""Webhook endpoints, their delivery attempts and each user's signing secret."""

from __future__ import annotations

from typing import TYPE_CHECKING

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from imgtasks.domain.errors import NotFound
from imgtasks.domain.ids import is_valid_id
from imgtasks.domain.webhooks import DeliveryAttempt, WebhookEndpoint

from .items import Item, is_condition_failure, plain_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


class WebhookRepository:
    """Webhook endpoints (`WEBHOOK#<id>` / `WEBHOOK`, listed by owner on GSI1), their delivery
    attempts (`WEBHOOK#<id>` / `DELIVERY#<time>#...`, expiring), and each user's signing secret
    (`WEBHOOKSECRET#<owner>` / `SECRET`)."""

    def __init__(self, table: Table) -> None:
        self._table = table

    @staticmethod
    def _key(endpoint_id: str) -> Item:
        return {"PK": f"WEBHOOK#{endpoint_id}", "SK": "WEBHOOK"}

    @staticmethod
    def _owner_partition(owner_id: str) -> str:
        return f"OWNER#{owner_id}#WEBHOOK"

    def put(self, endpoint: WebhookEndpoint) -> None:
        item = {
            **self._key(endpoint.id),
            "GSI1PK": self._owner_partition(endpoint.owner_id),
            "GSI1SK": endpoint.id,
            **endpoint.model_dump(exclude_none=True),
        }
        self._table.put_item(Item=item)

    def get(self, endpoint_id: str) -> WebhookEndpoint | None:
        if not is_valid_id(endpoint_id):
            return None
        item = self._table.get_item(Key=self._key(endpoint_id), ConsistentRead=True).get("Item")
        return WebhookEndpoint.model_validate(plain_item(item)) if item else None

    def get_owned(self, owner_id: str, endpoint_id: str) -> WebhookEndpoint:
        endpoint = self.get(endpoint_id)
        if endpoint is None or endpoint.owner_id != owner_id:
            raise NotFound(f"webhook '{endpoint_id}' does not exist")
        return endpoint

    def list_owned(self, owner_id: str) -> list[WebhookEndpoint]:
        response = self._table.query(
            IndexName="GSI1", KeyConditionExpression=Key("GSI1PK").eq(self._owner_partition(owner_id))
        )
        return [WebhookEndpoint.model_validate(plain_item(item)) for item in response["Items"]]

    def delete(self, endpoint_id: str) -> None:
        self._table.delete_item(Key=self._key(endpoint_id))

    def disable(self, endpoint_id: str, reason: str) -> None:
        try:
            self._table.update_item(
                Key=self._key(endpoint_id),
                UpdateExpression="SET disabled = :yes, disabled_reason = :why",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":yes": True, ":why": reason},
            )
        except ClientError as error:
            if not is_condition_failure(error):  # deleted meanwhile: nothing to disable
                raise

    def add_attempt(self, endpoint_id: str, attempt: DeliveryAttempt, expires_at: int) -> None:
        sort_key = f"DELIVERY#{attempt.time}#{attempt.webhook_id}#{attempt.attempt:03d}"
        item: Item = {"PK": f"WEBHOOK#{endpoint_id}", "SK": sort_key, "expires_at": expires_at}
        self._table.put_item(Item={**item, **attempt.model_dump(mode="json")})

    def attempts(self, endpoint_id: str, limit: int) -> list[DeliveryAttempt]:
        """The newest attempts first."""
        response = self._table.query(
            KeyConditionExpression=Key("PK").eq(f"WEBHOOK#{endpoint_id}") & Key("SK").begins_with("DELIVERY#"),
            ScanIndexForward=False,
            Limit=limit,
        )
        fields = set(DeliveryAttempt.model_fields)
        return [
            DeliveryAttempt.model_validate({k: v for k, v in plain_item(item).items() if k in fields})
            for item in response["Items"]
        ]

    @staticmethod
    def _secret_key(owner_id: str) -> Item:
        return {"PK": f"WEBHOOKSECRET#{owner_id}", "SK": "SECRET"}

    def secret(self, owner_id: str) -> str | None:
        item = self._table.get_item(Key=self._secret_key(owner_id), ConsistentRead=True).get("Item")
        return str(item["secret"]) if item else None

    def set_secret(self, owner_id: str, secret: str) -> None:
        self._table.put_item(Item={**self._secret_key(owner_id), "secret": secret})
