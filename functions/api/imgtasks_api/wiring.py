"""The API function's wiring: the shared parts (imgtasks.wiring), and accounts, tokens and the
Idempotency-Key records, built on first use."""

from __future__ import annotations

import os
from functools import cache, cached_property
from urllib.parse import urlsplit

from aws_lambda_powertools.utilities.parameters import SecretsProvider

from imgtasks.adapters import aws
from imgtasks.services.accounts import Accounts, GuestPolicy, SignInLimit
from imgtasks.services.credentials import Passwords, TokenSigner
from imgtasks.services.monitoring import Monitoring, parse_functions, parse_queues
from imgtasks.services.usage import UsageService
from imgtasks.settings import ApiSettings
from imgtasks.wiring import Wiring

from .idempotency import IdempotentRequests

# GuestsPerAddress counts the guest accounts of one source address per hour.
GUEST_WINDOW_SECONDS = 3600


class ApiWiring(Wiring):
    """The API function's parts: the shared ones, and accounts and tokens."""

    settings: ApiSettings

    def __init__(self, settings: ApiSettings) -> None:
        super().__init__(settings)

    @cached_property
    def accounts(self) -> Accounts:
        return Accounts(
            self.user_records,
            Passwords(),
            registration_open=self.settings.allow_registration,
            sign_in_limit=SignInLimit(self.settings.sign_in_attempts, self.settings.sign_in_window_seconds),
            guests=GuestPolicy(
                enabled=self.settings.allow_guests,
                days=self.settings.guest_days,
                per_address=self.settings.guests_per_address,
                window_seconds=GUEST_WINDOW_SECONDS,
            ),
        )

    @cached_property
    def idempotency(self) -> IdempotentRequests:
        return IdempotentRequests(self.idempotency_store(self.settings.idempotency_table_name))

    @cached_property
    def monitoring(self) -> Monitoring:
        functions = parse_functions(self.settings.monitored_functions)
        own_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        return Monitoring(
            aws.sqs(),
            aws.cloudwatch(),
            self.activity_records,
            queues=parse_queues(self.settings.monitored_queues),
            functions={"api": own_name, **functions} if own_name else functions,
        )

    @cached_property
    def usage(self) -> UsageService:
        return UsageService(self.usage_records)

    @property
    def admins(self) -> frozenset[str]:
        return frozenset(name.strip() for name in self.settings.admin_usernames.split(",") if name.strip())

    @cached_property
    def media_origins(self) -> tuple[str, ...]:
        """Where the web app's pictures and videos come from: the buckets (as their presigned
        URLs name them: a URL made here, no request) and the render URLs' host."""
        urls = [
            self.store.presigned_get(bucket, "origin", 60)
            for bucket in (self.settings.uploads_bucket, self.settings.results_bucket)
        ]
        return tuple(dict.fromkeys(origin_of(url) for url in [*urls, self.settings.cdn_base_url] if url))

    @cached_property
    def signer(self) -> TokenSigner:
        provider = SecretsProvider(boto3_client=aws.secretsmanager())
        secret = provider.get(self.settings.token_secret_arn, max_age=300)
        return TokenSigner(str(secret), self.settings.token_issuer, self.settings.token_ttl_seconds)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@cache
def api_wiring() -> ApiWiring:
    """Built on the first request of a container (cold start) and kept for the next ones."""
    return ApiWiring(ApiSettings())  # type: ignore[call-arg]
