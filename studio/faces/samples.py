"""Synthetic face pictures drawn with PIL, for tests, the benchmark and trying the tiny
profile: skin-coloured ovals with eyes and a mouth on a dark background (what the tiny
detector twin is made to find)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

SKIN = (230, 170, 140)
BACKGROUND = (40, 40, 40)


def draw_faces(size: tuple[int, int] = (640, 320), centers: tuple[tuple[int, int], ...] = ((110, 160), (320, 160), (530, 160)),
               radius: int = 60, skin: tuple[int, int, int] = SKIN, background: tuple[int, int, int] = BACKGROUND,
               seed: int = 0) -> Image.Image:
    """An RGB picture with one face per centre; ``seed`` varies the eyes and mouth slightly."""
    import random

    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    for cx, cy in centers:
        draw.ellipse([cx - radius, cy - radius * 1.25, cx + radius, cy + radius * 1.25], fill=skin)
        eye = radius * (0.12 + 0.04 * rng.random())
        for side in (-1, 1):
            ex, ey = cx + side * radius * 0.35, cy - radius * 0.3
            draw.ellipse([ex - eye, ey - eye, ex + eye, ey + eye], fill=(60, 40, 30))
        mouth = radius * (0.3 + 0.1 * rng.random())
        draw.rectangle([cx - mouth, cy + radius * 0.55, cx + mouth, cy + radius * 0.65], fill=(150, 60, 60))
    return image
