"""The default models measured on a fresh held-out synthetic set, through the infer function's
own preprocessing and decoders.

    make bench-models      (or: .venv/bin/python bench/models.py [--images 500] [--seed 7777])

Prints, per model: mAP@0.5 and recall at IoU 0.5 (detection, rotated boxes), top-1 accuracy
(classification), latency per 640x480 image on one core, and the model's load time.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "common"), str(ROOT / "functions" / "infer"), str(ROOT / "training")]

import onnxruntime as ort  # noqa: E402
from synthetic import BACKGROUNDS, make_scene  # noqa: E402

from imgtasks.domain.model_manifest import ModelManifest  # noqa: E402
from imgtasks_infer.decoders import classify, corners, detect, rotated_iou  # noqa: E402
from imgtasks_infer.preprocess import prepare  # noqa: E402


def load(model_id: str) -> tuple[ModelManifest, ort.InferenceSession, float]:
    directory = ROOT / "models" / model_id
    manifest = ModelManifest.model_validate_json((directory / "manifest.json").read_text())
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    started = time.perf_counter()
    session = ort.InferenceSession(str(directory / "model.onnx"), options, providers=["CPUExecutionProvider"])
    return manifest, session, (time.perf_counter() - started) * 1000


def jpeg_roundtrip(image: Image.Image, quality: int = 90) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def average_precision(matches: list[tuple[float, bool]], positives: int) -> float:
    """Area under the interpolated precision-recall curve (all points, as VOC 2010+)."""
    if positives == 0:
        return float("nan")
    matches.sort(key=lambda item: -item[0])
    true_positives = np.cumsum([hit for _, hit in matches])
    false_positives = np.cumsum([not hit for _, hit in matches])
    recall = true_positives / positives
    precision = true_positives / np.maximum(true_positives + false_positives, 1)
    recall = np.concatenate([[0.0], recall, [1.0]])
    precision = np.concatenate([[1.0], precision, [0.0]])
    for index in range(len(precision) - 2, -1, -1):
        precision[index] = max(precision[index], precision[index + 1])
    steps = np.where(recall[1:] != recall[:-1])[0]
    return float(np.sum((recall[steps + 1] - recall[steps]) * precision[steps + 1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7777, help="differs from the training seeds")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    rng = np.random.default_rng(args.seed)
    scenes = [make_scene(rng) for _ in range(args.images)]
    images = [jpeg_roundtrip(scene.image) if index % 2 else scene.image for index, scene in enumerate(scenes)]
    print(f"held-out set: {args.images} scenes (seed {args.seed}), half of them JPEG-compressed\n")

    manifest, session, load_ms = load("shapes")
    labels = manifest.labels
    matches: dict[str, list[tuple[float, bool]]] = {label: [] for label in labels}
    positives = dict.fromkeys(labels, 0)
    found = 0
    rotation_errors: dict[str, list[float]] = {"rectangle": [], "triangle": []}
    for scene, image in zip(scenes, images, strict=True):
        tensor, placement = prepare(image, manifest)
        outputs = dict(
            zip(
                [o.name for o in session.get_outputs()],
                [o[0] for o in session.run(None, {"images": tensor[None]})],
                strict=True,
            )
        )
        detections = detect(outputs, manifest, placement)
        truth = [(s.label, corners(s.cx, s.cy, s.width, s.height, s.angle), s) for s in scene.shapes]
        for label, _, _ in truth:
            positives[label] += 1
        used: set[int] = set()
        for detection in detections:
            box = corners(
                detection["x"] * image.width,
                detection["y"] * image.height,
                detection["width"] * image.width,
                detection["height"] * image.height,
                detection["rotation"] * 2 * np.pi,
            )
            best, best_iou = None, 0.0
            for index, (label, polygon, _) in enumerate(truth):
                if label == detection["label"] and index not in used:
                    iou = rotated_iou(box, polygon)
                    if iou > best_iou:
                        best, best_iou = index, iou
            hit = best is not None and best_iou >= 0.5
            if hit:
                used.add(best)  # type: ignore[arg-type]
                shape = truth[best][2]  # type: ignore[index]
                if shape.label in rotation_errors:
                    period = {"rectangle": np.pi, "triangle": 2 * np.pi / 3}[shape.label]
                    difference = abs(detection["rotation"] * 2 * np.pi - shape.angle) % period
                    rotation_errors[shape.label].append(min(difference, period - difference) * 180 / np.pi)
            matches[str(detection["label"])].append((float(detection["probability"]), hit))
        found += len(used)
    per_class = {label: average_precision(matches[label], positives[label]) for label in labels}
    total = sum(positives.values())
    latency_image = Image.new("RGB", (640, 480))
    latency_image.paste(images[0].resize((640, 480)))
    timings = []
    for _ in range(50):
        started = time.perf_counter()
        tensor, placement = prepare(latency_image, manifest)
        outputs = dict(
            zip(
                [o.name for o in session.get_outputs()],
                [o[0] for o in session.run(None, {"images": tensor[None]})],
                strict=True,
            )
        )
        detect(outputs, manifest, placement)
        timings.append((time.perf_counter() - started) * 1000)
    print("shapes (detection)")
    print(
        f"  mAP@0.5        {statistics.mean(per_class.values()):.3f}   ("
        + ", ".join(f"{k} {v:.3f}" for k, v in per_class.items())
        + ")"
    )
    print(f"  recall@0.5     {found / total:.3f}   ({found} of {total} shapes)")
    for label, errors in rotation_errors.items():
        if errors:
            print(f"  rotation error {label}: median {statistics.median(errors):.1f} degrees")
    print(
        f"  latency        {statistics.median(timings):.1f} ms per 640x480 image "
        "(one core; preprocessing and decoding included)"
    )
    print(
        f"  model load     {load_ms:.0f} ms; file {(ROOT / 'models/shapes/model.onnx').stat().st_size / 1e6:.2f} MB\n"
    )

    manifest, session, load_ms = load("scenes")
    correct = 0
    confusion = np.zeros((len(BACKGROUNDS), len(BACKGROUNDS)), int)
    for scene, image in zip(scenes, images, strict=True):
        tensor, _ = prepare(image, manifest)
        result = classify(session.run(None, {"images": tensor[None]})[0][0], manifest)
        correct += result["label"] == scene.background
        confusion[BACKGROUNDS.index(scene.background), BACKGROUNDS.index(str(result["label"]))] += 1
    timings = []
    for _ in range(50):
        started = time.perf_counter()
        tensor, _ = prepare(latency_image, manifest)
        classify(session.run(None, {"images": tensor[None]})[0][0], manifest)
        timings.append((time.perf_counter() - started) * 1000)
    print("scenes (classification)")
    print(f"  top-1          {correct / len(scenes):.3f}   ({correct} of {len(scenes)})")
    print("  confusion      rows truth, columns predicted: " + " ".join(BACKGROUNDS))
    for label, row in zip(BACKGROUNDS, confusion, strict=True):
        print(f"                 {label:12} {' '.join(f'{v:4d}' for v in row)}")
    print(f"  latency        {statistics.median(timings):.1f} ms per 640x480 image (one core)")
    print(f"  model load     {load_ms:.0f} ms; file {(ROOT / 'models/scenes/model.onnx').stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
