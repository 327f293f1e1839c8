"""The default models measured on two sets, through the infer function's own preprocessing and
decoders: a fresh held-out set from the training generator (training/synthetic.py), and a set from
an independent generator written apart from it (bench/independent_scenes.py).

    make bench-models      (or: .venv/bin/python bench/models.py [--images 500] [--seed 7777])

Prints, per model: mAP@0.5 and recall at IoU 0.5 (detection, rotated boxes), top-1 accuracy
(classification) on each set, latency per 640x480 image on one core, and the model's load time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [
    str(ROOT / "layers" / "common"),
    str(ROOT / "functions" / "workers"),
    str(ROOT / "training"),
    str(ROOT / "bench"),
]

import onnxruntime as ort  # noqa: E402
from independent_scenes import make_independent_scene  # noqa: E402
from synthetic import BACKGROUNDS, make_scene  # noqa: E402

from imgtasks.domain.model_manifest import ModelManifest  # noqa: E402
from imgtasks_workers.inference.decoders import classify, corners, detect, rotated_iou  # noqa: E402
from imgtasks_workers.inference.preprocess import prepare  # noqa: E402


def load(model_id: str) -> tuple[ModelManifest, ort.InferenceSession, float]:
    directory = ROOT / "models" / model_id
    manifest = ModelManifest.model_validate_json((directory / "manifest.json").read_text())
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    started = time.perf_counter()
    session = ort.InferenceSession(str(directory / "model.onnx"), options, providers=["CPUExecutionProvider"])
    return manifest, session, (time.perf_counter() - started) * 1000


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


def run(session: ort.InferenceSession, tensor: np.ndarray) -> dict[str, np.ndarray]:
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, [output[0] for output in session.run(None, {"images": tensor[None]})], strict=True))


def measure_detection(
    manifest: ModelManifest, session: ort.InferenceSession, scenes: list[tuple[Image.Image, str, list]]
) -> None:
    labels = manifest.labels
    matches: dict[str, list[tuple[float, bool]]] = {label: [] for label in labels}
    positives = dict.fromkeys(labels, 0)
    found = dict.fromkeys(labels, 0)
    rotation_errors: dict[str, list[float]] = {"rectangle": [], "triangle": []}
    for image, _, shapes in scenes:
        tensor, placement = prepare(image, manifest)
        detections = detect(run(session, tensor), manifest, placement)
        truth = [(s.label, corners(s.cx, s.cy, s.width, s.height, s.angle), s) for s in shapes]
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
                found[shape.label] += 1
                if shape.label in rotation_errors:
                    period = {"rectangle": np.pi, "triangle": 2 * np.pi / 3}[shape.label]
                    difference = abs(detection["rotation"] * 2 * np.pi - shape.angle) % period
                    rotation_errors[shape.label].append(min(difference, period - difference) * 180 / np.pi)
            matches[str(detection["label"])].append((float(detection["probability"]), hit))
    per_class = {label: average_precision(matches[label], positives[label]) for label in labels}
    total = sum(positives.values())
    print(
        f"  mAP@0.5        {statistics.mean(per_class.values()):.3f}   ("
        + ", ".join(f"{k} {v:.3f}" for k, v in per_class.items())
        + ")"
    )
    print(
        f"  recall@0.5     {sum(found.values()) / total:.3f}   ({sum(found.values())} of {total} shapes; "
        + ", ".join(f"{k} {found[k] / max(1, positives[k]):.3f}" for k in labels)
        + ")"
    )
    for label, errors in rotation_errors.items():
        if errors:
            print(f"  rotation error {label}: median {statistics.median(errors):.1f} degrees")


def measure_classification(
    manifest: ModelManifest, session: ort.InferenceSession, scenes: list[tuple[Image.Image, str, list]]
) -> None:
    correct = 0
    confusion = np.zeros((len(BACKGROUNDS), len(BACKGROUNDS)), int)
    for image, background, _ in scenes:
        tensor, _ = prepare(image, manifest)
        result = classify(session.run(None, {"images": tensor[None]})[0][0], manifest)
        correct += result["label"] == background
        confusion[BACKGROUNDS.index(background), BACKGROUNDS.index(str(result["label"]))] += 1
    print(f"  top-1          {correct / len(scenes):.3f}   ({correct} of {len(scenes)})")
    print("  confusion      rows truth, columns predicted: " + " ".join(BACKGROUNDS))
    for label, row in zip(BACKGROUNDS, confusion, strict=True):
        print(f"                 {label:12} {' '.join(f'{v:4d}' for v in row)}")


def latency(manifest: ModelManifest, session: ort.InferenceSession, image: Image.Image) -> float:
    timings = []
    for _ in range(50):
        started = time.perf_counter()
        tensor, placement = prepare(image, manifest)
        outputs = run(session, tensor)
        if manifest.task == "detection":
            detect(outputs, manifest, placement)
        else:
            classify(next(iter(outputs.values())), manifest)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7777, help="differs from the training seeds")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    rng = np.random.default_rng(args.seed)
    held_out = []
    for _ in range(args.images):
        scene = make_scene(rng)  # with the generator's own light, noise, blur and JPEG
        held_out.append((scene.image, scene.background, scene.shapes))
    rng = np.random.default_rng(args.seed)
    independent = []
    for _ in range(args.images):
        other = make_independent_scene(rng)
        independent.append((other.image, other.background, other.shapes))
    sets = {
        f"held-out set: {args.images} scenes from the training generator (seed {args.seed})": held_out,
        f"independent set: {args.images} scenes from bench/independent_scenes.py (seed {args.seed})": independent,
    }
    latency_image = Image.new("RGB", (640, 480))
    latency_image.paste(held_out[0][0].resize((640, 480)))
    for model_id, measure in (("shapes", measure_detection), ("scenes", measure_classification)):
        manifest, session, load_ms = load(model_id)
        print(f"{model_id} ({manifest.task})")
        for title, scenes in sets.items():
            print(f" {title}")
            measure(manifest, session, scenes)
        size = (ROOT / "models" / model_id / "model.onnx").stat().st_size / 1e6
        print(
            f"  latency        {latency(manifest, session, latency_image):.1f} ms per 640x480 image "
            "(one core; preprocessing and decoding included)"
        )
        print(f"  model load     {load_ms:.0f} ms; file {size:.2f} MB\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
