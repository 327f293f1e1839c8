"""Models loaded once per container: weights cached in /tmp by version, one ONNX Runtime session
per model, with as many intra-op threads as the function has vCPUs."""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

import onnxruntime as ort

from imgtasks.adapters.model_registry import ModelRegistry
from imgtasks.domain.errors import ErrorCode, PermanentTaskError
from imgtasks.domain.model_manifest import ModelManifest
from imgtasks.observability import logger, metrics


@dataclass
class LoadedModel:
    manifest: ModelManifest
    session: ort.InferenceSession

    @property
    def batchable(self) -> bool:
        """True when the input's batch axis is dynamic, so several images can run at once."""
        shape = self.session.get_inputs()[0].shape
        return not isinstance(shape[0], int) or shape[0] != 1


def available_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


class ModelCache:
    def __init__(self, registry: ModelRegistry, cache_dir: Path) -> None:
        self._registry = registry
        self._cache_dir = cache_dir
        self._loaded: dict[tuple[str, str], LoadedModel] = {}

    def get(self, model_id: str) -> LoadedModel:
        manifest = self._registry.get(model_id)
        if manifest is None:
            raise PermanentTaskError(ErrorCode.MODEL_UNAVAILABLE, f"model '{model_id}' is not in the registry")
        key = (manifest.id, manifest.version)
        if key not in self._loaded:
            self._loaded[key] = self._load(manifest)
        return self._loaded[key]

    def _load(self, manifest: ModelManifest) -> LoadedModel:
        started = time.perf_counter()
        path = self._cache_dir / manifest.id / manifest.version / "model.onnx"
        if not path.exists():
            data = self._registry.weights(manifest)
            if manifest.sha256 and hashlib.sha256(data).hexdigest() != manifest.sha256:
                raise PermanentTaskError(
                    ErrorCode.MODEL_UNAVAILABLE,
                    f"model '{manifest.id}' version {manifest.version} does not match its checksum",
                )
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".part")
            partial.write_bytes(data)
            partial.replace(path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = available_cpus()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # a file ONNX Runtime cannot load is not going to load on a retry
            raise PermanentTaskError(
                ErrorCode.MODEL_UNAVAILABLE, f"model '{manifest.id}' could not be loaded: {error}"
            ) from error
        elapsed_ms = (time.perf_counter() - started) * 1000
        metrics.add_metric(name="ModelLoadMilliseconds", unit="Milliseconds", value=elapsed_ms)
        logger.info("model loaded", extra={"model": manifest.id, "version": manifest.version, "ms": round(elapsed_ms)})
        return LoadedModel(manifest, session)
