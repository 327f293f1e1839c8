"""The model registry: each model is an ONNX file plus a manifest, kept in the models bucket.

    registry/<id>.json                    the manifest of the model's current version
    models/<id>/<version>/model.onnx      the weights of that version

Publishing uploads the weights first and the manifest last, so a reader never sees a manifest whose
weights are missing. The API lists the registry (cached briefly); the infer function loads the
weights of the version a task names, once per container."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from imgtasks.domain.model_manifest import ModelManifest

REGISTRY_PREFIX = "registry/"
LIST_CACHE_SECONDS = 60


class ModelRegistry:
    def __init__(self, s3_client: Any, bucket: str) -> None:
        self._s3 = s3_client
        self._bucket = bucket
        self._cached: tuple[float, list[ModelManifest]] | None = None

    def manifests(self) -> list[ModelManifest]:
        if self._cached is not None and time.monotonic() - self._cached[0] < LIST_CACHE_SECONDS:
            return self._cached[1]
        manifests = []
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=REGISTRY_PREFIX):
            for item in page.get("Contents", []):
                body = self._s3.get_object(Bucket=self._bucket, Key=item["Key"])["Body"].read()
                manifests.append(ModelManifest.model_validate_json(body))
        manifests.sort(key=lambda manifest: manifest.id)
        self._cached = (time.monotonic(), manifests)
        return manifests

    def ids(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {"detection": [], "classification": []}
        for manifest in self.manifests():
            found[manifest.task].append(manifest.id)
        return found

    def get(self, model_id: str) -> ModelManifest | None:
        return next((manifest for manifest in self.manifests() if manifest.id == model_id), None)

    def weights(self, manifest: ModelManifest) -> bytes:
        data: bytes = self._s3.get_object(Bucket=self._bucket, Key=manifest.weights_key)["Body"].read()
        return data


def publish(s3_client: Any, bucket: str, directory: Path) -> ModelManifest:
    """Uploads directory/model.onnx and registers directory/manifest.json as the model's version."""
    weights = (directory / "model.onnx").read_bytes()
    manifest = ModelManifest.model_validate(json.loads((directory / "manifest.json").read_text()))
    manifest = manifest.model_copy(update={"sha256": hashlib.sha256(weights).hexdigest()})
    s3_client.put_object(Bucket=bucket, Key=manifest.weights_key, Body=weights)
    s3_client.put_object(
        Bucket=bucket,
        Key=f"{REGISTRY_PREFIX}{manifest.id}.json",
        Body=manifest.model_dump_json(indent=2).encode(),
        ContentType="application/json",
    )
    return manifest
