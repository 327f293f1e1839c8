"""Reading a model's raw outputs as results: image class, or detections with boxes normalised to
0-1 of the original image (centre x, y, width, height), rotation as 0-1 of a full turn, and
probability 0-1. Supports the YOLOv8 / YOLO11 detection layout, YOLOv8-OBB, SSD-style boxes and
scores, plain classifiers and BlazeFace (faces with keypoints)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from imgtasks.domain.model_manifest import ModelManifest
from imgtasks_imaging.faces import faces_in, iou_of_centred_boxes
from imgtasks_imaging.model_input import Placement


@dataclass(frozen=True)
class Detection:
    label: str
    probability: float
    x: float
    y: float
    width: float
    height: float
    rotation: float

    def as_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "probability": round(self.probability, 4),
            "x": round(self.x, 5),
            "y": round(self.y, 5),
            "width": round(self.width, 5),
            "height": round(self.height, 5),
            "rotation": round(self.rotation, 5),
        }


def classify(output: np.ndarray, manifest: ModelManifest) -> dict[str, object]:
    """One image's [classes] vector to {label, probability}."""
    values = np.asarray(output, dtype=np.float64).reshape(-1)
    if manifest.output.values == "logits":
        shifted = np.exp(values - values.max())
        values = shifted / shifted.sum()
    best = int(values.argmax())
    return {"label": manifest.labels[best], "probability": round(float(values[best]), 4)}


def box_of(row: Any) -> tuple[float, float, float, float]:
    """A row of the boxes array (cx, cy, width, height) as floats."""
    cx, cy, width, height = (float(value) for value in row[:4])
    return cx, cy, width, height


def corners(cx: float, cy: float, width: float, height: float, angle: float) -> list[tuple[float, float]]:
    cos, sin = math.cos(angle), math.sin(angle)
    return [
        (cx + dx * cos - dy * sin, cy + dx * sin + dy * cos)
        for dx, dy in (
            (-width / 2, -height / 2),
            (width / 2, -height / 2),
            (width / 2, height / 2),
            (-width / 2, height / 2),
        )
    ]


def _clip(subject: list[tuple[float, float]], clip: list[tuple[float, float]]) -> list[tuple[float, float]]:
    output = subject
    for index in range(len(clip)):
        a, b = clip[index], clip[(index + 1) % len(clip)]
        points, output = output, []
        for i, current in enumerate(points):
            previous = points[i - 1]
            current_in = (b[0] - a[0]) * (current[1] - a[1]) - (b[1] - a[1]) * (current[0] - a[0]) >= 0
            previous_in = (b[0] - a[0]) * (previous[1] - a[1]) - (b[1] - a[1]) * (previous[0] - a[0]) >= 0
            if current_in != previous_in:
                dx, dy = current[0] - previous[0], current[1] - previous[1]
                ex, ey = b[0] - a[0], b[1] - a[1]
                denominator = dx * ey - dy * ex
                t = ((a[0] - previous[0]) * ey - (a[1] - previous[1]) * ex) / denominator if denominator else 0.0
                output.append((previous[0] + t * dx, previous[1] + t * dy))
            if current_in:
                output.append(current)
        if not output:
            break
    return output


def _area(polygon: list[tuple[float, float]]) -> float:
    if len(polygon) < 3:
        return 0.0
    return (
        abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(polygon, polygon[1:] + polygon[:1], strict=True))) / 2
    )


def rotated_iou(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    inter = _area(_clip(a, b))
    union = _area(a) + _area(b) - inter
    return inter / union if union > 0 else 0.0


def nms(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou: float, angles: np.ndarray | None) -> list[int]:
    """Per-class non-maximum suppression; rotated IoU when angles are given."""
    keep: list[int] = []
    for label in np.unique(classes):
        indices = np.where(classes == label)[0]
        indices = indices[np.argsort(-scores[indices], kind="stable")]
        while indices.size:
            best = int(indices[0])
            keep.append(best)
            rest = indices[1:]
            if not rest.size:
                break
            if angles is None:
                overlaps = iou_of_centred_boxes(boxes[best], boxes[rest])
            else:
                kept = corners(*box_of(boxes[best]), float(angles[best]))
                overlaps = np.array([rotated_iou(kept, corners(*box_of(boxes[i]), float(angles[i]))) for i in rest])
            indices = rest[overlaps <= iou]
    return sorted(keep, key=lambda i: -scores[i])


def detect_faces(
    outputs: dict[str, np.ndarray], manifest: ModelManifest, placement: Placement
) -> list[dict[str, object]]:
    """BlazeFace's outputs (imgtasks_imaging.faces) to detections with their named keypoints."""
    detections = []
    for face in faces_in(outputs, manifest, placement):
        detection = Detection(
            label=manifest.labels[0],
            probability=float(np.clip(face.score, 0, 1)),
            x=float(np.clip(face.x, 0, 1)),
            y=float(np.clip(face.y, 0, 1)),
            width=face.width,
            height=face.height,
            rotation=0.0,
        ).as_dict()
        detection["keypoints"] = [
            {"name": name, "x": round(x, 5), "y": round(y, 5)}
            for name, (x, y) in zip(manifest.output.keypoints, face.keypoints, strict=True)
        ]
        detections.append(detection)
    return detections


def detect(outputs: dict[str, np.ndarray], manifest: ModelManifest, placement: Placement) -> list[dict[str, object]]:
    """One image's outputs (batch axis removed) to detections on the original image."""
    layout = manifest.output.layout
    if layout == "blazeface":
        return detect_faces(outputs, manifest, placement)
    classes_count = len(manifest.labels)
    angles: np.ndarray | None = None
    if layout in ("yolov8", "yolov8-obb"):
        raw = next(iter(outputs.values()))
        if raw.shape[0] != 4 + classes_count + (1 if layout == "yolov8-obb" else 0):
            raw = raw.T  # some exports put anchors first
        boxes = raw[0:4].T.astype(np.float64)
        class_scores = raw[4 : 4 + classes_count].T
        if layout == "yolov8-obb":
            angles = raw[4 + classes_count].astype(np.float64)
            if manifest.output.angle == "radians-counterclockwise":
                angles = -angles
    else:
        box_name = manifest.output.box_output or next(iter(outputs))
        score_name = manifest.output.score_output or list(outputs)[1]
        xyxy = outputs[box_name].reshape(-1, 4).astype(np.float64)
        class_scores = outputs[score_name].reshape(xyxy.shape[0], -1)
        if manifest.output.background_class is not None:
            class_scores = np.delete(class_scores, manifest.output.background_class, axis=1)
        if manifest.output.boxes == "xyxy-normalized":
            size_w, size_h = manifest.input.size
            xyxy = xyxy * np.array([size_w, size_h, size_w, size_h])
        boxes = np.stack(
            [
                (xyxy[:, 0] + xyxy[:, 2]) / 2,
                (xyxy[:, 1] + xyxy[:, 3]) / 2,
                xyxy[:, 2] - xyxy[:, 0],
                xyxy[:, 3] - xyxy[:, 1],
            ],
            axis=1,
        )
    classes = class_scores.argmax(axis=1)
    scores = class_scores[np.arange(len(classes)), classes].astype(np.float64)
    chosen = np.where(scores >= manifest.thresholds.score)[0]
    boxes, scores, classes = boxes[chosen], scores[chosen], classes[chosen]
    if angles is not None:
        angles = angles[chosen]
    kept = nms(boxes, scores, classes, manifest.thresholds.nms_iou, angles)[: manifest.max_detections]
    detections = []
    for index in kept:
        cx, cy, width, height = boxes[index]
        x, y = placement.to_image(np.array(cx), np.array(cy))
        angle = float(angles[index]) if angles is not None else 0.0
        detections.append(
            Detection(
                label=manifest.labels[int(classes[index])],
                probability=float(np.clip(scores[index], 0, 1)),
                x=float(np.clip(x / placement.width, 0, 1)),
                y=float(np.clip(y / placement.height, 0, 1)),
                width=float(width / placement.scale_x / placement.width),
                height=float(height / placement.scale_y / placement.height),
                rotation=(angle / (2 * math.pi)) % 1.0,
            ).as_dict()
        )
    return detections
