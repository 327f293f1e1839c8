"""imgtasks-client: the imgtasks image-task service from Python (Client, AsyncClient) and the shell
(the `imgtasks` command)."""

from .client import AsyncClient, Client
from .errors import (
    AuthenticationError,
    Conflict,
    ImgtasksError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    ServerError,
    TaskFailed,
    UnsupportedMediaType,
    WaitTimeout,
)
from .events import Change
from .models import (
    ArchiveResult,
    Detection,
    File,
    InferResult,
    Keypoint,
    ModelInfo,
    ModelList,
    Output,
    Page,
    ProcessResult,
    SigningKey,
    Task,
    Webhook,
)
from .webhooks import InvalidSignature, verify

__all__ = [
    "ArchiveResult",
    "AsyncClient",
    "AuthenticationError",
    "Change",
    "Client",
    "Conflict",
    "Detection",
    "File",
    "ImgtasksError",
    "InferResult",
    "InvalidInput",
    "InvalidSignature",
    "Keypoint",
    "ModelInfo",
    "ModelList",
    "NotFound",
    "Output",
    "Page",
    "PayloadTooLarge",
    "PermissionDenied",
    "ProcessResult",
    "RateLimited",
    "ServerError",
    "SigningKey",
    "Task",
    "TaskFailed",
    "UnsupportedMediaType",
    "WaitTimeout",
    "Webhook",
    "verify",
]
__version__ = "1.0.0"
