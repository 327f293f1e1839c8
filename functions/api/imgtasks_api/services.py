"""The API's collaborators, built once per cold start from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools.utilities.parameters import SecretsProvider

from imgtasks import aws
from imgtasks.accounts import Accounts
from imgtasks.auth import Passwords, TokenSigner
from imgtasks.files import FileService, Limits
from imgtasks.model_registry import ModelRegistry
from imgtasks.queues import TaskQueue
from imgtasks.repositories import FileRepository, TaskRepository, UserRepository
from imgtasks.storage import ObjectStore
from imgtasks.tasks import TaskService

from .settings import ApiSettings


@dataclass(frozen=True)
class Services:
    settings: ApiSettings
    accounts: Accounts
    signer: TokenSigner
    files: FileService
    tasks: TaskService
    models: ModelRegistry


def build_services(settings: ApiSettings) -> Services:
    table = aws.table(settings.table_name)
    store = ObjectStore(aws.client("s3"))
    secrets = SecretsProvider(boto3_client=aws.client("secretsmanager"))
    secret = secrets.get(settings.token_secret_arn, max_age=300)
    files = FileRepository(table)
    models = ModelRegistry(aws.client("s3"), settings.models_bucket)
    limits = Limits(
        max_upload_bytes=settings.max_upload_bytes,
        max_pixels=settings.max_image_pixels,
        max_frames=settings.max_image_frames,
    )
    return Services(
        settings=settings,
        accounts=Accounts(UserRepository(table), Passwords(), registration_open=settings.allow_registration),
        signer=TokenSigner(str(secret), settings.token_issuer, settings.token_ttl_seconds),
        files=FileService(files, store, settings.uploads_bucket, limits),
        tasks=TaskService(
            TaskRepository(table),
            files,
            TaskQueue(aws.client("sqs"), settings.process_queue_url, settings.infer_queue_url),
            store,
            known_models=models.ids,
        ),
        models=models,
    )
