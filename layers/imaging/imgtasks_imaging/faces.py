"""Faces in a picture: MediaPipe's BlazeFace (full range), converted to ONNX by
training/convert_face_detector.py and shipped beside this module in face_model/ (the same folder
the registry publishes as the `faces` model; its MODEL_CARD.md and LICENSE say where it comes from).

`decode_blazeface` reads the model's raw outputs (the infer worker uses it for the `faces` model);
`find_faces` runs the shipped model on a picture (face gravity). onnxruntime and numpy are imported
on first use: most process tasks never look for a face."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from imgtasks.domain.model_manifest import ModelManifest

if TYPE_CHECKING:
    import numpy as np

    from .model_input import Placement

MODEL_DIR = Path(__file__).with_name("face_model")
# MediaPipe clips raw scores to +-100; +-80 keeps the sigmoid finite in float32 as well.
RAW_SCORE_LIMIT = 80.0


@dataclass(frozen=True)
class Face:
    """A face as fractions of the picture: the box's centre and size, and its keypoints (x, y)."""

    score: float
    x: float
    y: float
    width: float
    height: float
    keypoints: tuple[tuple[float, float], ...]

    @property
    def area(self) -> float:
        return self.width * self.height


def anchors(size: tuple[int, int], strides: list[int], per_cell: list[int]) -> np.ndarray:
    """The anchors' centres ([N, 2], 0-1 of the input) of MediaPipe's SSD anchor grid: for each
    stride a grid of cells, `per_cell` anchors in each (the same centre; BlazeFace's anchors all
    have size 1, so the centre is all the decoder needs)."""
    import numpy as np

    width, height = size
    centres = []
    for stride, count in zip(strides, per_cell, strict=True):
        rows, columns = math.ceil(height / stride), math.ceil(width / stride)
        ys, xs = np.meshgrid((np.arange(rows) + 0.5) / rows, (np.arange(columns) + 0.5) / columns, indexing="ij")
        grid = np.stack([xs.reshape(-1), ys.reshape(-1)], axis=1)
        centres.append(np.repeat(grid, count, axis=0))
    return np.concatenate(centres).astype(np.float64)


def iou_of_centred_boxes(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """IoU of one cx, cy, w, h box against many."""
    import numpy as np

    x1 = np.maximum(box[0] - box[2] / 2, others[:, 0] - others[:, 2] / 2)
    y1 = np.maximum(box[1] - box[3] / 2, others[:, 1] - others[:, 3] / 2)
    x2 = np.minimum(box[0] + box[2] / 2, others[:, 0] + others[:, 2] / 2)
    y2 = np.minimum(box[1] + box[3] / 2, others[:, 1] + others[:, 3] / 2)
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    union = box[2] * box[3] + others[:, 2] * others[:, 3] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def decode_blazeface(
    regressors: np.ndarray,
    raw_scores: np.ndarray,
    manifest: ModelManifest,
) -> list[tuple[float, np.ndarray]]:
    """One image's outputs (batch axis removed) to faces in the model's input, 0-1: a list of
    (score, row) with row = cx, cy, w, h, then x, y of each keypoint, strongest first.

    As MediaPipe's TensorsToDetections and its weighted non-maximum suppression: a face's box and
    keypoints are the score-weighted mean of the boxes that overlap the strongest one by more than
    `thresholds.nms_iou`, so the many anchors that see one face make one steadier box."""
    import numpy as np

    output = manifest.output
    width, height = manifest.input.size
    centres = anchors((width, height), output.anchor_strides, output.anchors_per_cell)
    rows = regressors.reshape(centres.shape[0], -1).astype(np.float64)
    points = rows.reshape(rows.shape[0], -1, 2) / np.array([width, height])
    points[:, 0] += centres  # the box's centre
    points[:, 2:] += centres[:, None, :]  # the keypoints
    decoded = points.reshape(rows.shape[0], -1)
    scores = 1 / (1 + np.exp(-np.clip(raw_scores.reshape(-1).astype(np.float64), -RAW_SCORE_LIMIT, RAW_SCORE_LIMIT)))
    candidates = np.where((scores >= manifest.thresholds.score) & (decoded[:, 2] > 0) & (decoded[:, 3] > 0))[0]
    candidates = candidates[np.argsort(-scores[candidates], kind="stable")]
    faces: list[tuple[float, np.ndarray]] = []
    while candidates.size and len(faces) < manifest.max_detections:
        best = candidates[0]
        overlaps = iou_of_centred_boxes(decoded[best], decoded[candidates])
        together = candidates[overlaps > manifest.thresholds.nms_iou]
        weights = scores[together][:, None]
        faces.append((float(scores[best]), (decoded[together] * weights).sum(axis=0) / weights.sum()))
        candidates = candidates[overlaps <= manifest.thresholds.nms_iou]
    return faces


@cache
def _shipped_model() -> tuple[ModelManifest, Any]:
    import onnxruntime as ort

    manifest = ModelManifest.model_validate_json((MODEL_DIR / "manifest.json").read_text())
    options = ort.SessionOptions()
    # One thread: a face search is a few milliseconds, and the worker's other threads are busy.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(MODEL_DIR / "model.onnx"), options, providers=["CPUExecutionProvider"])
    return manifest, session


# Analysed on a copy at most this long on its long side: the model sees 192x192 anyway.
ANALYSIS_SIDE = 768


def faces_in(outputs: dict[str, np.ndarray], manifest: ModelManifest, placement: Placement) -> list[Face]:
    """One image's outputs (batch axis removed, by output name) to faces on the original picture."""
    names = list(outputs)
    box_name = manifest.output.box_output or names[0]
    score_name = manifest.output.score_output or names[1]
    size_w, size_h = manifest.input.size
    faces = []
    for score, row in decode_blazeface(outputs[box_name], outputs[score_name], manifest):
        # row: cx, cy, w, h, then x, y of each keypoint; the even places are x, the odd y.
        xs, ys = placement.to_image(row[0::2] * size_w, row[1::2] * size_h)
        xs, ys = xs / placement.width, ys / placement.height
        faces.append(
            Face(
                score=score,
                x=float(xs[0]),
                y=float(ys[0]),
                width=float(row[2] * size_w / placement.scale_x / placement.width),
                height=float(row[3] * size_h / placement.scale_y / placement.height),
                keypoints=tuple((float(x), float(y)) for x, y in zip(xs[2:], ys[2:], strict=True)),
            )
        )
    return faces


def find_faces(image: Image.Image) -> list[Face]:
    """The faces the shipped model finds in the picture, strongest first."""
    from .model_input import prepare

    manifest, _ = _shipped_model()
    small = image if image.mode == "RGB" else image.convert("RGB")
    factor = max(1, max(image.width, image.height) // ANALYSIS_SIDE)
    if factor > 1:
        small = small.reduce(factor)
    tensor, placement = prepare(small, manifest)
    return faces_in(shipped_model_outputs(tensor), manifest, placement)


def shipped_model_outputs(tensor: np.ndarray) -> dict[str, np.ndarray]:
    """The shipped model's outputs by name, batch axis removed, for one prepared input."""
    _, session = _shipped_model()
    names = [output.name for output in session.get_outputs()]
    outputs = session.run(None, {session.get_inputs()[0].name: tensor[None]})
    return {name: output[0] for name, output in zip(names, outputs, strict=True)}
