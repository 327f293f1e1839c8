"""Where a crop window goes: a compass point, a known focus, or the content (libvips' smartcrop
strategies, in Pillow), or the faces in it (imgtasks_imaging.faces).

`entropy` keeps the window whose grey levels carry the most information (Shannon entropy of its
histogram); `attention` the one with the most of what draws the eye, which libvips defines as
edges, saturated colour and skin tones. Both score candidate windows on a copy at most
ANALYSIS_SIDE pixels on its long side: the decision needs the layout, not the detail, and a cover
resize leaves only one axis free, so a few dozen candidates are scored in a few milliseconds."""

from __future__ import annotations

from collections.abc import Callable

from PIL import Image, ImageChops, ImageFilter, ImageStat

from imgtasks.domain.operations import Focus

from .faces import Face, find_faces
from .modes import filterable, flatten, has_alpha

ANALYSIS_SIDE = 160
# Candidate positions per free axis (at most): 1/32 of the free travel is finer than the eye needs.
STEPS = 33
# Where each compass gravity puts the window, as a share of the free travel (x, y).
COMPASS: dict[str, tuple[float, float]] = {
    "center": (0.5, 0.5),
    "north": (0.5, 0.0),
    "north-east": (1.0, 0.0),
    "east": (1.0, 0.5),
    "south-east": (1.0, 1.0),
    "south": (0.5, 1.0),
    "south-west": (0.0, 1.0),
    "west": (0.0, 0.5),
    "north-west": (0.0, 0.0),
}


def window(image: Image.Image, width: int, height: int, gravity: str, focus: Focus | None) -> tuple[int, int]:
    """The left and top of a width x height window inside the image."""
    free_x, free_y = max(0, image.width - width), max(0, image.height - height)
    if free_x == 0 and free_y == 0:
        return 0, 0
    if focus is not None:
        left = round(focus.x * image.width - width / 2)
        top = round(focus.y * image.height - height / 2)
        return min(max(0, left), free_x), min(max(0, top), free_y)
    if gravity in COMPASS:
        share_x, share_y = COMPASS[gravity]
        return round(free_x * share_x), round(free_y * share_y)
    if gravity == "face":
        faces = find_faces(image)
        if faces:
            return _face_window(image, width, height, faces)
        gravity = "attention"
    return _best_window(image, width, height, gravity)


# A face box runs from the brows to the chin: the window keeps this much more of the head around it
# (hair and chin), as a share of the box's size on each side, when there is room.
FACE_MARGIN = 0.3


def _face_window(image: Image.Image, width: int, height: int, faces: list[Face]) -> tuple[int, int]:
    """The window centred on every face when they all fit in it, else on the biggest; with room,
    the faces' heads (FACE_MARGIN) are kept whole too."""

    def bounds(group: list[Face], margin: float) -> tuple[float, float, float, float]:
        return (
            min((f.x - f.width * (0.5 + margin)) * image.width for f in group),
            min((f.y - f.height * (0.5 + margin)) * image.height for f in group),
            max((f.x + f.width * (0.5 + margin)) * image.width for f in group),
            max((f.y + f.height * (0.5 + margin)) * image.height for f in group),
        )

    def fits(box: tuple[float, float, float, float]) -> bool:
        return box[2] - box[0] <= width and box[3] - box[1] <= height

    biggest = max(faces, key=lambda face: face.area)
    candidates = [(faces, FACE_MARGIN), (faces, 0.0), ([biggest], FACE_MARGIN), ([biggest], 0.0)]
    group, margin = next(((g, m) for g, m in candidates if fits(bounds(g, m))), ([biggest], 0.0))
    left, top, right, bottom = bounds(group, margin)
    x = round((left + right) / 2 - width / 2)
    y = round((top + bottom) / 2 - height / 2)
    return min(max(0, x), max(0, image.width - width)), min(max(0, y), max(0, image.height - height))


def _analysis_copy(image: Image.Image) -> tuple[Image.Image, float]:
    """An RGB copy at most about ANALYSIS_SIDE on its long side (see-through parts on white), and
    its scale."""
    factor = max(1, max(image.width, image.height) // ANALYSIS_SIDE)
    small = filterable(image)
    small = small.reduce(factor) if factor > 1 else small
    if has_alpha(small):
        small = flatten(small, "#ffffff")
    elif small.mode != "RGB":
        small = small.convert("RGB")
    return small, small.width / image.width


def saliency(rgb: Image.Image) -> Image.Image:
    """libvips' attention map: edges of the luminance, saturated colour and skin tones, added."""
    grey = rgb.convert("L")
    edges = grey.filter(ImageFilter.FIND_EDGES)
    # The filter sees the image's own border as an edge: that is no detail of the picture.
    inner = Image.new("L", edges.size, 0)
    inner.paste(edges.crop((1, 1, edges.width - 1, edges.height - 1)), (1, 1))
    edges = inner
    _, saturation, value = rgb.convert("HSV").split()
    # Saturated and not dark: colour that stands out.
    saturated = ImageChops.multiply(
        saturation.point(lambda s: 255 if s > 96 else 0), value.point(lambda v: 255 if v > 64 else 0)
    )
    red, green, blue = rgb.split()
    # Skin: red above green above blue, with enough of each (the classic RGB rule).
    skin = ImageChops.multiply(
        ImageChops.multiply(
            ImageChops.subtract(red, green).point(lambda d: 255 if d > 15 else 0),
            ImageChops.subtract(green, blue).point(lambda d: 255 if d > 0 else 0),
        ),
        red.point(lambda r: 255 if r > 95 else 0),
    )
    combined = ImageChops.add(ImageChops.add(edges, saturated.point(lambda v: v // 2)), skin.point(lambda v: v // 2))
    return combined.filter(ImageFilter.BoxBlur(2))


def _positions(free: int) -> list[int]:
    if free <= 0:
        return [0]
    count = min(free + 1, STEPS)
    return sorted({round(free * index / (count - 1)) for index in range(count)})


def _best_window(image: Image.Image, width: int, height: int, gravity: str) -> tuple[int, int]:
    small, scale = _analysis_copy(image)
    w, h = max(1, round(width * scale)), max(1, round(height * scale))
    if gravity == "entropy":
        grey = small.convert("L")

        def score(box: tuple[int, int, int, int]) -> float:
            return float(grey.crop(box).entropy())
    else:
        attention = saliency(small)

        def score(box: tuple[int, int, int, int]) -> float:
            return float(ImageStat.Stat(attention.crop(box)).sum[0])

    best = _search(small.width - w, small.height - h, w, h, score)
    free_x, free_y = image.width - width, image.height - height
    left = min(max(0, round(best[0] / scale)), max(0, free_x))
    top = min(max(0, round(best[1] / scale)), max(0, free_y))
    return left, top


def _search(
    free_x: int, free_y: int, w: int, h: int, score: Callable[[tuple[int, int, int, int]], float]
) -> tuple[int, int]:
    """The candidate with the highest score; among equals, the one nearest the centre (a plain
    image is cropped in the middle, as with no gravity)."""
    centre = (free_x / 2, free_y / 2)
    ranked = [
        (score((x, y, x + w, y + h)), -abs(x - centre[0]) - abs(y - centre[1]), x, y)
        for x in _positions(free_x)
        for y in _positions(free_y)
    ]
    _, _, x, y = max(ranked)
    return x, y
