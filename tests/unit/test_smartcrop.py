"""Smart crop: where a cover resize or a crop without left/top puts its window, checked on the
pixels of images with a known subject: compass gravities, a focus point, and the content-aware
`entropy` and `attention` keeping an off-centre subject whole."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image
from pydantic import ValidationError

from imgtasks.domain.operations import CropOperation, ResizeOperation
from imgtasks.kinds.process import ProcessSpec
from imgtasks_imaging import DecodeLimits, render
from imgtasks_imaging.operations import FrameByFrame, crop, resize
from imgtasks_imaging.smartcrop import window

SUBJECT = (230, 30, 40)


def scene(
    width: int = 600, height: int = 300, subject: tuple[int, int, int, int] = (440, 110, 540, 210)
) -> Image.Image:
    """A quiet grey background with a detailed, saturated red subject (a checker of reds) off centre."""
    image = Image.new("RGB", (width, height), (128, 128, 128))
    rng = random.Random(5)
    left, top, right, bottom = subject
    for y in range(top, bottom):
        for x in range(left, right):
            shade = rng.randint(-25, 25)
            image.putpixel((x, y), (SUBJECT[0] + min(25, shade), max(0, SUBJECT[1] + shade), SUBJECT[2]))
    return image


def subject_pixels(image: Image.Image) -> int:
    """Pixels of the red subject (the background and the grey texture have no red above 180)."""
    red = image.convert("RGB").getchannel("R")
    return sum(1 for value in red.get_flattened_data() if value > 180)


def whole_subject_pixels(width: int, height: int) -> int:
    """The subject's pixels after the same scale a cover resize to width x height applies."""
    image = scene()
    scale = max(width / image.width, height / image.height)
    return subject_pixels(
        image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.BILINEAR)
    )


@pytest.mark.parametrize("gravity", ["entropy", "attention"])
def test_content_aware_gravity_keeps_an_off_centre_subject_whole(gravity: str) -> None:
    centred = resize(scene(), ResizeOperation(op="resize", width=200, height=200, fit="cover"))
    smart = resize(scene(), ResizeOperation(op="resize", width=200, height=200, fit="cover", gravity=gravity))
    assert smart.size == centred.size == (200, 200)
    whole = whole_subject_pixels(200, 200)
    assert subject_pixels(centred) < whole * 0.5  # the middle misses most of it
    assert subject_pixels(smart) >= whole * 0.97


def test_attention_prefers_skin_and_colour_to_a_grey_texture() -> None:
    image = Image.new("RGB", (600, 300), (200, 200, 200))
    rng = random.Random(9)
    for y in range(100, 200):  # a grey, busy texture on the left
        for x in range(40, 140):
            value = rng.randint(60, 200)
            image.putpixel((x, y), (value, value, value))
    image.paste((224, 172, 140), (440, 100, 540, 200))  # a skin-toned face on the right
    kept = resize(image, ResizeOperation(op="resize", width=200, height=200, fit="cover", gravity="attention"))
    skin = sum(1 for pixel in kept.get_flattened_data() if pixel == (224, 172, 140))
    assert skin > 0.9 * (100 * 200 / 300) ** 2  # the whole face, scaled (its inside: edges blend)


@pytest.mark.parametrize(
    ("gravity", "corner"),
    [
        ("north-west", (255, 0, 0)),
        ("north-east", (0, 255, 0)),
        ("south-west", (0, 0, 255)),
        ("south-east", (255, 255, 0)),
    ],
)
def test_compass_gravity_keeps_its_corner(gravity: str, corner: tuple[int, int, int]) -> None:
    image = Image.new("RGB", (400, 400))
    for colour, box in zip(
        [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)],
        [(0, 0, 200, 200), (200, 0, 400, 200), (0, 200, 200, 400), (200, 200, 400, 400)],
        strict=True,
    ):
        image.paste(colour, box)
    kept = crop(image, CropOperation(op="crop", width=150, height=150, gravity=gravity))
    assert kept.size == (150, 150)
    assert set(kept.get_flattened_data()) == {corner}


def test_north_and_south_keep_the_top_and_the_bottom_of_a_tall_image() -> None:
    image = Image.new("RGB", (100, 300), (0, 0, 0))
    image.paste((255, 255, 255), (0, 0, 100, 100))
    north = resize(image, ResizeOperation(op="resize", width=100, height=100, fit="cover", gravity="north"))
    south = resize(image, ResizeOperation(op="resize", width=100, height=100, fit="cover", gravity="south"))
    assert set(north.get_flattened_data()) == {(255, 255, 255)}
    assert set(south.get_flattened_data()) == {(0, 0, 0)}


def test_a_focus_point_centres_the_window_on_it_within_the_image() -> None:
    image = scene()
    focused = crop(image, CropOperation(op="crop", width=120, height=120, focus={"x": 490 / 600, "y": 160 / 300}))
    assert subject_pixels(focused) >= 100 * 100 * 0.97
    edge = crop(image, CropOperation(op="crop", width=120, height=120, focus={"x": 1.0, "y": 0.0}))
    assert edge.size == (120, 120)  # clamped inside the image, not shifted past its edge


def test_a_plain_image_is_cropped_in_the_middle_whatever_the_gravity() -> None:
    image = Image.new("RGB", (300, 100), (10, 20, 30))
    for gravity in ("entropy", "attention"):
        assert window(image, 100, 100, gravity, None) == (100, 0), gravity


def test_gravity_belongs_to_cover_and_to_a_crop_without_a_position() -> None:
    with pytest.raises(ValidationError, match="fit 'cover' only"):
        ResizeOperation(op="resize", width=100, height=100, fit="inside", gravity="entropy")
    with pytest.raises(ValidationError, match="left and top are not given"):
        CropOperation(op="crop", left=0, top=0, width=10, height=10, gravity="north")
    with pytest.raises(ValidationError, match="both left and top, or neither"):
        CropOperation(op="crop", left=0, width=10, height=10)
    with pytest.raises(ValidationError):
        ResizeOperation(op="resize", width=100, height=100, fit="cover", gravity="middle")


def moving_subject_frames() -> list[Image.Image]:
    """The subject on the right in the first frame, then on the left."""
    return [scene(), scene(subject=(60, 110, 160, 210))]


@pytest.mark.parametrize("gravity", ["entropy", "attention"])
def test_an_animation_keeps_the_window_its_first_frame_picks(gravity: str) -> None:
    # Picked frame by frame, the window would follow the subject and the picture would jump.
    frames = moving_subject_frames()
    buffer = io.BytesIO()
    frames[0].save(buffer, "WEBP", save_all=True, append_images=frames[1:], duration=100, lossless=True)
    op = {"op": "resize", "width": 200, "height": 200, "fit": "cover", "gravity": gravity}
    spec = ProcessSpec.model_validate({"operations": [op], "output": {"format": "webp", "lossless": True}})
    output = Image.open(io.BytesIO(render(buffer.getvalue(), spec, DecodeLimits(10**8, 100)).outputs[0].data))
    whole = whole_subject_pixels(200, 200)
    seen = []
    for index in range(output.n_frames):
        output.seek(index)
        seen.append(subject_pixels(output))
    assert len(seen) == 2
    assert seen[0] >= whole * 0.97  # the first frame's subject, kept whole
    assert seen[1] == 0  # the same window: the subject has left it


def test_a_video_keeps_the_window_its_first_frame_picks() -> None:
    crop_op = CropOperation(op="crop", width=200, height=200, gravity="attention")
    resize_op = ResizeOperation(op="resize", width=200, height=200, fit="cover", gravity="entropy")
    for operations in ([crop_op], [resize_op]):
        frame_by_frame = FrameByFrame(list(operations))
        seen = [subject_pixels(frame_by_frame(frame)) for frame in moving_subject_frames()]
        assert seen[0] > 4000 and seen[1] == 0, (operations, seen)  # 67x67 or 100x100 of red
