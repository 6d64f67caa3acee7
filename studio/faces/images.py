"""A user's picture for the face tools: read as every tool reads one (studio.pictures.reading),
as 8-bit RGB pixels with an alpha channel kept aside and put back on the result."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from studio.pictures import reading

if TYPE_CHECKING:
    from PIL import Image

MAX_PIXELS = reading.MAX_PIXELS  # a 40-megapixel photo; beyond that the face tools refuse it
MIN_SIDE = 8  # smaller cannot hold a face


@dataclass
class Picture:
    rgb: np.ndarray  # H x W x 3 uint8
    alpha: np.ndarray | None = None  # H x W uint8, when the upload had transparency
    name: str = "image"

    def to_pil(self, rgb: np.ndarray | None = None) -> Image.Image:
        from PIL import Image

        pixels = self.rgb if rgb is None else rgb
        if self.alpha is not None:
            return Image.fromarray(np.dstack([pixels, self.alpha]), "RGBA")
        return Image.fromarray(pixels, "RGB")


def open_picture(source: Any, what: str = "The image") -> Picture:
    """A Picture from a path, a {"path": ...} dict (Gradio), a PIL image or an array, read as
    every tool reads one (studio.pictures.reading: upright, 8-bit, within 40 megapixels)."""
    if isinstance(source, Picture):
        return source
    image = reading.read_picture(source, what, MAX_PIXELS, MIN_SIDE)
    alpha = None
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        alpha = np.asarray(rgba)[..., 3].copy()
        image = rgba
    rgb = np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))
    path = reading.path_of(source)
    return Picture(rgb, alpha, Path(path).name if isinstance(path, (str, Path)) else what)


def shrink(picture: Picture, max_side: int) -> Picture:
    """The picture no larger than ``max_side`` on its longer side (an identity needs a 112-pixel
    face, not 40 megapixels kept in memory)."""
    import cv2

    height, width = picture.rgb.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1:
        return picture
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    alpha = None if picture.alpha is None else cv2.resize(picture.alpha, size, interpolation=cv2.INTER_AREA)
    return Picture(cv2.resize(picture.rgb, size, interpolation=cv2.INTER_AREA), alpha, picture.name)

