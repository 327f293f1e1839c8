"""`quality: "auto"` on real photographs from the corpus (tests/corpus/sources.json): our SSIM is
scikit-image's, the quality chosen keeps the documented SSIM target in at most four encodes, and
it is near the smallest that does (ten quality steps lower does not)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from skimage.metrics import structural_similarity

from imgtasks.domain.outputs import OutputSpec
from imgtasks.kinds.process import ProcessSpec
from imgtasks_imaging import DecodeLimits, render
from imgtasks_imaging.auto_quality import AUTO_QUALITY_ENCODES, SAMPLED_PIXELS, SSIM_TARGET, luma, sampled_ssim, ssim
from imgtasks_imaging.encode import encode
from imgtasks_imaging.frames import Frames
from tests.helpers import ROOT

CORPUS = ROOT / ".corpus"
PHOTOS = [
    "pillow-13.0.0/xmp_test.jpg",
    "face-recognition-1.3.0/obama.jpg",
    "insightface-0.7.3/t1.jpg",
    "face-recognition-1.3.0/biden.jpg",
]
LIMITS = DecodeLimits(max_pixels=100_000_000, max_frames=1000)


def picture(name: str, side: int = 800) -> Image.Image:
    image = Image.open(CORPUS / name).convert("RGB")
    image.thumbnail((side, side))
    return image


@pytest.mark.parametrize("name", PHOTOS[:2])
def test_our_ssim_is_scikit_image_s(name: str) -> None:
    image = picture(name, 600)
    reference = np.asarray(image.convert("L"))
    for quality in (30, 70, 95):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        decoded = np.asarray(Image.open(buffer).convert("L"))
        assert ssim(reference, decoded) == pytest.approx(
            structural_similarity(reference, decoded, data_range=255), abs=1e-9
        )


@pytest.mark.parametrize("name", PHOTOS[:2])
def test_a_large_picture_s_sampled_ssim_is_within_half_a_percent_of_the_whole_s(name: str) -> None:
    image = picture(name, 1024)
    reference = np.asarray(image.convert("L"))
    assert reference.size > SAMPLED_PIXELS  # so the sample is what is measured
    for quality in (40, 75, 90):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        decoded = np.asarray(Image.open(buffer).convert("L"))
        whole = structural_similarity(reference, decoded, data_range=255)
        assert sampled_ssim(reference, decoded) == pytest.approx(whole, abs=0.005)


@pytest.mark.parametrize("fmt", ["jpeg", "webp", "avif"])
@pytest.mark.parametrize("name", PHOTOS)
def test_auto_quality_keeps_the_target_in_at_most_four_encodes_and_no_lower_quality_would(name: str, fmt: str) -> None:
    image = picture(name)
    encoded = encode(Frames([image], [0]), OutputSpec(format=fmt, quality="auto"), "jpeg")
    choice = encoded.auto_quality
    assert choice is not None and choice.encodes <= AUTO_QUALITY_ENCODES and choice.target == SSIM_TARGET
    with Image.open(io.BytesIO(encoded.data)) as written:
        measured = sampled_ssim(luma(image, "#ffffff"), luma(written, "#ffffff"))
    assert measured == pytest.approx(choice.ssim, abs=1e-4)
    assert measured >= SSIM_TARGET or choice.quality == 95, choice
    # Ten steps lower would not have kept the target: the search is that close to the smallest.
    if choice.quality > 40:
        lower = encode(Frames([image], [0]), OutputSpec(format=fmt, quality=max(40, choice.quality - 10)), "jpeg")
        with Image.open(io.BytesIO(lower.data)) as written:
            assert sampled_ssim(luma(image, "#ffffff"), luma(written, "#ffffff")) < SSIM_TARGET


def test_a_flat_graphic_takes_the_lowest_quality_in_one_encode_and_an_animation_the_fallback() -> None:
    flat = Image.new("RGB", (400, 300), (30, 90, 160))
    flat.paste((240, 200, 40), (100, 80, 300, 220))
    choice = encode(Frames([flat], [0]), OutputSpec(format="jpeg", quality="auto"), "png").auto_quality
    assert choice is not None and (choice.quality, choice.encodes) == (40, 2)  # 75, then the bottom
    frames = Frames([flat, flat.rotate(180)], [100, 100])
    animated = encode(frames, OutputSpec(format="webp", quality="auto"), "gif")
    assert animated.auto_quality is None and animated.frames == 2  # written at the fallback, 85


def test_a_process_task_s_auto_quality_output_says_what_was_chosen_and_is_smaller_than_85() -> None:
    data = (CORPUS / "face-recognition-1.3.0" / "obama.jpg").read_bytes()
    spec = ProcessSpec.model_validate(
        {
            "operations": [{"op": "resize", "width": 640}],
            "output": {"format": "jpeg", "quality": "auto"},
            "variants": [
                {"name": "auto", "operations": []},
                {"name": "fixed", "operations": [], "output": {"format": "jpeg", "quality": 85}},
            ],
        }
    )
    auto, fixed = render(data, spec, LIMITS).outputs
    assert auto.auto_quality is not None and auto.auto_quality.quality < 85
    assert fixed.auto_quality is None and len(auto.data) < len(fixed.data)
