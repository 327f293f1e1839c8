"""The API's collaborators, built once per cold start from the settings through the shared wiring."""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools.utilities.parameters import SecretsProvider

from imgtasks.adapters import aws
from imgtasks.adapters.model_registry import ModelRegistry
from imgtasks.services.accounts import Accounts, GuestPolicy, SignInLimit
from imgtasks.services.archives import Archives
from imgtasks.services.credentials import Passwords, TokenSigner
from imgtasks.services.files import FileService
from imgtasks.services.retention import GuestData
from imgtasks.services.tasks import TaskService
from imgtasks.services.webhooks import WebhookService
from imgtasks.settings import ApiSettings
from imgtasks.wiring import Wiring

from .idempotency import IdempotentRequests

# GuestsPerAddress counts the guest accounts of one source address per hour.
GUEST_WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class Services:
    settings: ApiSettings
    accounts: Accounts
    signer: TokenSigner
    files: FileService
    tasks: TaskService
    archives: Archives
    webhooks: WebhookService
    models: ModelRegistry
    guest_data: GuestData
    idempotency: IdempotentRequests


def build_services(settings: ApiSettings) -> Services:
    wiring = Wiring(settings)
    secret = SecretsProvider(boto3_client=aws.client("secretsmanager")).get(settings.token_secret_arn, max_age=300)
    models = wiring.model_registry
    return Services(
        settings=settings,
        accounts=Accounts(
            wiring.users,
            Passwords(),
            registration_open=settings.allow_registration,
            sign_in_limit=SignInLimit(settings.sign_in_attempts, settings.sign_in_window_seconds),
            guests=GuestPolicy(
                enabled=settings.allow_guests,
                days=settings.guest_days,
                per_address=settings.guests_per_address,
                window_seconds=GUEST_WINDOW_SECONDS,
            ),
        ),
        signer=TokenSigner(str(secret), settings.token_issuer, settings.token_ttl_seconds),
        files=wiring.file_service,
        tasks=TaskService(
            wiring.tasks,
            wiring.files,
            wiring.store,
            wiring.lifecycle,
            known_models=models.ids,
            fetch=wiring.file_service.start_fetch,
            webhooks=wiring.webhooks,
        ),
        webhooks=wiring.webhooks,
        archives=wiring.archives,
        models=models,
        guest_data=GuestData(wiring.files, wiring.tasks, wiring.store),
        idempotency=IdempotentRequests(settings.idempotency_table_name),
    )
