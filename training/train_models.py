"""Trains the default models on synthetic scenes and exports them to ONNX (PyTorch on the CPU).

    make train-models                       (or: .venv-train/bin/python training/train_models.py all)

Writes models/<id>/model.onnx and models/<id>/manifest.json. Seeded: the same command gives the
same data; torch's CPU kernels may still differ in the last bits between machines.

- shapes (detection): a small anchor-free CNN on a stride-8 grid (CenterNet-style targets). The
  exported graph ends in a head that writes the YOLOv8-OBB layout [1, 4 + 3 + 1, anchors]: centre,
  size, class scores (peaks only: a 3x3 max-pool keeps the local maxima) and angle in radians.
- scenes (classification): a small CNN with five logits.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.nn import functional as F  # noqa: N812

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import BACKGROUNDS, PERIOD, SHAPES, make_scene

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
DETECTION_SIZE = 256
STRIDE = 8
GRID = DETECTION_SIZE // STRIDE
CLASSIFICATION_SIZE = 128
PAD = 114


# ------------------------------------------------------------------ data
def letterbox(image: Image.Image, size: int) -> tuple[Image.Image, float, int, int]:
    scale = min(size / image.width, size / image.height)
    new_w, new_h = max(1, round(image.width * scale)), max(1, round(image.height * scale))
    canvas = Image.new("RGB", (size, size), (PAD, PAD, PAD))
    pad_x, pad_y = (size - new_w) // 2, (size - new_h) // 2
    canvas.paste(image.resize((new_w, new_h), Image.Resampling.BILINEAR), (pad_x, pad_y))
    return canvas, scale, pad_x, pad_y


def _detection_sample(seed: int) -> tuple[np.ndarray, list[tuple[int, float, float, float, float, float]]]:
    rng = np.random.default_rng(seed)
    scene = make_scene(rng)
    image, scale, pad_x, pad_y = letterbox(scene.image, DETECTION_SIZE)
    boxes = [
        (SHAPES.index(s.label), s.cx * scale + pad_x, s.cy * scale + pad_y, s.width * scale, s.height * scale, s.angle)
        for s in scene.shapes
    ]
    return np.asarray(image, dtype=np.uint8), boxes


def _classification_sample(seed: int) -> tuple[np.ndarray, int]:
    rng = np.random.default_rng(seed)
    scene = make_scene(rng)
    image = scene.image.resize((CLASSIFICATION_SIZE, CLASSIFICATION_SIZE), Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.uint8), BACKGROUNDS.index(scene.background)


def generate(kind: str, seeds: range) -> list:
    worker = _detection_sample if kind == "detection" else _classification_sample
    with Pool(2) as pool:
        return pool.map(worker, seeds, chunksize=64)


def detection_targets(boxes: list[tuple[int, float, float, float, float, float]]) -> dict[str, np.ndarray]:
    heat = np.zeros((3, GRID, GRID), np.float32)
    regression = np.zeros((8, GRID, GRID), np.float32)  # offset x y, log size w h, cos2 sin2 cos3 sin3
    mask = np.zeros((3, GRID, GRID), np.float32)  # centre, rectangle angle, triangle angle
    ys, xs = np.mgrid[0:GRID, 0:GRID]
    for label, cx, cy, width, height, angle in boxes:
        gx, gy = cx / STRIDE, cy / STRIDE
        ix, iy = min(GRID - 1, int(gx)), min(GRID - 1, int(gy))
        sigma = max(0.6, min(width, height) / STRIDE / 5)
        gaussian = np.exp(-((xs - ix) ** 2 + (ys - iy) ** 2) / (2 * sigma**2))
        heat[label] = np.maximum(heat[label], gaussian)
        regression[0:2, iy, ix] = (gx - ix, gy - iy)
        regression[2:4, iy, ix] = (math.log(width / STRIDE), math.log(height / STRIDE))
        regression[4:8, iy, ix] = (math.cos(2 * angle), math.sin(2 * angle), math.cos(3 * angle), math.sin(3 * angle))
        mask[0, iy, ix] = 1
        if SHAPES[label] == "rectangle":
            mask[1, iy, ix] = 1
        elif SHAPES[label] == "triangle":
            mask[2, iy, ix] = 1
    return {"heat": heat, "regression": regression, "mask": mask}


def flip_detection(
    images: np.ndarray, heat: torch.Tensor, regression: torch.Tensor, mask: torch.Tensor, rng: np.random.Generator
) -> tuple[np.ndarray, torch.Tensor, torch.Tensor, torch.Tensor]:
    """A batch mirrored left-right and/or upside down, with its targets (each half the time).

    Mirroring left-right turns a shape's angle to -angle; upside down, a rectangle's to -angle and
    a triangle's to pi - angle (its apex points the other way): so sin 2a changes sign either way,
    sin 3a left-right and cos 3a upside down."""
    regression = regression.clone()
    if rng.random() < 0.5:
        images, heat, mask, regression = images[:, :, ::-1], heat.flip(3), mask.flip(3), regression.flip(3)
        regression[:, 0] = 1 - regression[:, 0]
        regression[:, 5] = -regression[:, 5]
        regression[:, 7] = -regression[:, 7]
    if rng.random() < 0.5:
        images, heat, mask, regression = images[:, ::-1], heat.flip(2), mask.flip(2), regression.flip(2)
        regression[:, 1] = 1 - regression[:, 1]
        regression[:, 5] = -regression[:, 5]
        regression[:, 6] = -regression[:, 6]
    return np.ascontiguousarray(images), heat, regression, mask


# ------------------------------------------------------------------ models
def block(inputs: int, outputs: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inputs, outputs, 3, stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(outputs),
        nn.ReLU(inplace=True),
    )


class ShapesNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(block(3, 16, 2), block(16, 24, 2), block(24, 32, 2))  # stride 8
        self.deep = nn.Sequential(block(32, 48, 2), block(48, 48, dilation=2), block(48, 48, dilation=4))  # stride 16
        self.skip = nn.Conv2d(32, 48, 1)
        self.fuse = nn.Sequential(block(48, 48), block(48, 48))
        self.head = nn.Conv2d(48, 3 + 8, 1)
        nn.init.constant_(self.head.bias[:3], -2.2)  # a prior of ~0.1 objectness: stable focal loss

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shallow = self.stem(x)
        deep = F.interpolate(self.deep(shallow), scale_factor=2.0, mode="nearest")
        return self.head(self.fuse(deep + self.skip(shallow)))


class ShapesExport(nn.Module):
    """The trained net plus the head that writes the YOLOv8-OBB layout."""

    def __init__(self, net: ShapesNet) -> None:
        super().__init__()
        self.net = net
        ys, xs = torch.meshgrid(torch.arange(GRID), torch.arange(GRID), indexing="ij")
        self.register_buffer("grid_x", xs.float().reshape(1, 1, GRID, GRID))
        self.register_buffer("grid_y", ys.float().reshape(1, 1, GRID, GRID))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        heat = torch.sigmoid(out[:, 0:3])
        peaks = F.max_pool2d(heat, 3, stride=1, padding=1)
        scores = heat * (heat >= peaks).float()
        cx = (self.grid_x + out[:, 3:4]) * STRIDE
        cy = (self.grid_y + out[:, 4:5]) * STRIDE
        size = torch.exp(out[:, 5:7].clamp(max=6.0)) * STRIDE
        rect_angle = torch.remainder(torch.atan2(out[:, 8:9], out[:, 7:8]) / 2, PERIOD["rectangle"])
        tri_angle = torch.remainder(torch.atan2(out[:, 10:11], out[:, 9:10]) / 3, PERIOD["triangle"])
        best = torch.argmax(heat, dim=1, keepdim=True)
        angle = torch.where(best == 1, rect_angle, torch.where(best == 2, tri_angle, torch.zeros_like(rect_angle)))
        layout = torch.cat([cx, cy, size, scores, angle], dim=1)
        return layout.reshape(x.shape[0], 8, GRID * GRID)


class ScenesNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            block(3, 16, 2), block(16, 32, 2), block(32, 48, 2), block(48, 64, 2), block(64, 64)
        )
        self.classifier = nn.Linear(2 * 64, len(BACKGROUNDS))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The mean and the spread of each feature over the image: the spread is what tells a gentle
        # gradient from a plain colour under uneven light.
        features = self.features(x)
        mean = features.mean(dim=(2, 3))
        spread = torch.sqrt((features * features).mean(dim=(2, 3)) - mean * mean + 1e-6)
        return self.classifier(torch.cat([mean, spread], dim=1))


# ------------------------------------------------------------------ training
def focal_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    prediction = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    positive = target.eq(1).float()
    negative = 1 - positive
    pos_loss = torch.log(prediction) * (1 - prediction) ** 2 * positive
    neg_loss = torch.log(1 - prediction) * prediction**2 * (1 - target) ** 4 * negative
    count = positive.sum().clamp(min=1)
    return -(pos_loss.sum() + neg_loss.sum()) / count


def to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div(255)


def train_shapes(samples: int, epochs: int, seed: int) -> dict[str, object]:
    torch.manual_seed(seed)
    started = time.time()
    data = generate("detection", range(seed * 1_000_000, seed * 1_000_000 + samples))
    images = np.stack([image for image, _ in data])
    targets = [detection_targets(boxes) for _, boxes in data]
    heat = torch.from_numpy(np.stack([t["heat"] for t in targets]))
    regression = torch.from_numpy(np.stack([t["regression"] for t in targets]))
    mask = torch.from_numpy(np.stack([t["mask"] for t in targets]))
    print(f"shapes: {samples} scenes in {time.time() - started:.0f}s", flush=True)
    net = ShapesNet()
    flips = np.random.default_rng(seed)
    optimizer = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    batch = 64
    steps = epochs * math.ceil(samples / batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=steps, pct_start=0.15)
    for epoch in range(epochs):
        order = torch.randperm(samples)
        total = 0.0
        net.train()
        for start in range(0, samples, batch):
            index = order[start : start + batch]
            batch_images, batch_heat, reg, m = flip_detection(
                images[index.numpy()], heat[index], regression[index], mask[index], flips
            )
            out = net(to_tensor(batch_images))
            centre = m[:, 0:1]
            count = centre.sum().clamp(min=1)
            loss = focal_loss(out[:, 0:3], batch_heat)
            loss = loss + (F.l1_loss(out[:, 3:7], reg[:, 0:4], reduction="none") * centre).sum() / count
            loss = loss + (F.l1_loss(out[:, 7:9], reg[:, 4:6], reduction="none") * m[:, 1:2]).sum() / m[
                :, 1:2
            ].sum().clamp(min=1)
            loss = loss + (F.l1_loss(out[:, 9:11], reg[:, 6:8], reduction="none") * m[:, 2:3]).sum() / m[
                :, 2:3
            ].sum().clamp(min=1)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss) * len(index)
        print(
            f"shapes epoch {epoch + 1}/{epochs}: loss {total / samples:.4f} ({time.time() - started:.0f}s)", flush=True
        )
    net.eval()
    export = ShapesExport(net).eval()
    directory = MODELS / "shapes"
    directory.mkdir(parents=True, exist_ok=True)
    example = torch.zeros(1, 3, DETECTION_SIZE, DETECTION_SIZE)
    torch.onnx.export(
        export,
        example,
        directory / "model.onnx",
        input_names=["images"],
        output_names=["output0"],
        dynamic_axes={"images": {0: "batch"}, "output0": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    manifest = {
        "id": "shapes",
        "name": "Shapes (circle, rectangle, triangle)",
        "version": "2",
        "task": "detection",
        "description": "Filled circles, rectangles and triangles on plain, gradient, noise, stripe or checkerboard "
        "backgrounds; oriented boxes, so rotation means something for rectangles and triangles.",
        "labels": list(SHAPES),
        "input": {"name": "images", "size": [DETECTION_SIZE, DETECTION_SIZE], "layout": "NCHW"},
        "preprocess": {
            "color": "RGB",
            "scale": 1 / 255,
            "mean": [0, 0, 0],
            "std": [1, 1, 1],
            "letterbox": True,
            "pad": PAD,
        },
        "output": {"layout": "yolov8-obb", "boxes": "cxcywh-pixels", "angle": "radians-clockwise"},
        "thresholds": {"score": 0.25, "nms_iou": 0.45},
        "max_detections": 50,
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return {"seconds": round(time.time() - started), "samples": samples, "epochs": epochs}


def train_scenes(samples: int, epochs: int, seed: int) -> dict[str, object]:
    torch.manual_seed(seed)
    started = time.time()
    data = generate("classification", range(seed * 1_000_000, seed * 1_000_000 + samples))
    images = np.stack([image for image, _ in data])
    labels = torch.tensor([label for _, label in data])
    print(f"scenes: {samples} scenes in {time.time() - started:.0f}s", flush=True)
    net = ScenesNet()
    optimizer = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    batch = 64
    steps = epochs * math.ceil(samples / batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=steps, pct_start=0.2)
    for epoch in range(epochs):
        order = torch.randperm(samples)
        correct = 0
        net.train()
        for start in range(0, samples, batch):
            index = order[start : start + batch]
            logits = net(to_tensor(images[index.numpy()]))
            loss = F.cross_entropy(logits, labels[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            correct += int((logits.argmax(1) == labels[index]).sum())
        print(
            f"scenes epoch {epoch + 1}/{epochs}: train accuracy {correct / samples:.3f} ({time.time() - started:.0f}s)",
            flush=True,
        )
    net.eval()
    directory = MODELS / "scenes"
    directory.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        net,
        torch.zeros(1, 3, CLASSIFICATION_SIZE, CLASSIFICATION_SIZE),
        directory / "model.onnx",
        input_names=["images"],
        output_names=["logits"],
        dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    manifest = {
        "id": "scenes",
        "name": "Scene background",
        "version": "2",
        "task": "classification",
        "description": "The background of a scene: one colour, a two-colour linear gradient, colour noise, "
        "two-colour stripes or a checkerboard, with or without shapes on it.",
        "labels": list(BACKGROUNDS),
        "input": {"name": "images", "size": [CLASSIFICATION_SIZE, CLASSIFICATION_SIZE], "layout": "NCHW"},
        "preprocess": {"color": "RGB", "scale": 1 / 255, "mean": [0, 0, 0], "std": [1, 1, 1], "letterbox": False},
        "output": {"layout": "classifier", "values": "logits"},
        "thresholds": {"score": 0.0},
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return {"seconds": round(time.time() - started), "samples": samples, "epochs": epochs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", choices=["shapes", "scenes", "all"])
    parser.add_argument("--samples", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(2)
    log_path = MODELS / "training-log.json"
    log = json.loads(log_path.read_text()) if log_path.exists() else {}
    if args.model in ("scenes", "all"):
        log["scenes"] = train_scenes(args.samples or 12000, args.epochs or 12, args.seed)
    if args.model in ("shapes", "all"):
        log["shapes"] = train_shapes(args.samples or 16000, args.epochs or 12, args.seed)
    log_path.write_text(json.dumps(log, indent=2) + "\n")
    print(json.dumps(log))
    return 0


if __name__ == "__main__":
    sys.exit(main())
