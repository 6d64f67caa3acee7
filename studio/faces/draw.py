"""Detected faces drawn on a copy of the picture: a numbered box and the five landmarks,
so a student can say "replace face 2"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.faces.detect import Face

if TYPE_CHECKING:
    from PIL import Image


def annotate(image: Image.Image, faces: list[Face], chosen: set[int] | None = None) -> Image.Image:
    """A copy of the PIL image with faces numbered from 1; ``chosen`` numbers drawn in green."""
    from PIL import ImageDraw, ImageFont

    picture = image.convert("RGB")
    draw = ImageDraw.Draw(picture)
    width = max(2, round(max(picture.size) / 300))
    font_size = max(14, round(max(picture.size) / 30))
    try:
        font = ImageFont.load_default(size=font_size)
    except TypeError:  # Pillow < 10.1 has one fixed-size default font
        font = ImageFont.load_default()
    for number, face in enumerate(faces, start=1):
        colour = (40, 220, 90) if chosen and number in chosen else (255, 200, 0)
        x1, y1, x2, y2 = (float(v) for v in face.box)
        draw.rectangle([x1, y1, x2, y2], outline=colour, width=width)
        for x, y in face.landmarks:
            draw.ellipse([x - width, y - width, x + width, y + width], fill=colour)
        label = str(number)
        left, top, right, bottom = draw.textbbox((x1, y1), label, font=font)
        tag_top = max(0.0, y1 - (bottom - top) - 2 * width)
        draw.rectangle([x1, tag_top, x1 + (right - left) + 2 * width, tag_top + (bottom - top) + 2 * width], fill=colour)
        draw.text((x1 + width, tag_top + width - (top - y1)), label, fill=(0, 0, 0), font=font)
    return picture
