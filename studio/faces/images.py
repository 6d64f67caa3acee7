"""Reading a user's picture for the face tools: any file PIL opens, as 8-bit RGB pixels
(grayscale, palette, CMYK and 16-bit images converted; an alpha channel kept aside and put
back on the result), with a clear refusal for non-images and oversized pictures."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from studio.errors import BadInput

MAX_PIXELS = 40_000_000  # a 40-megapixel photo; beyond that the face tools refuse it


@dataclass
class Picture:
    rgb: np.ndarray  # H x W x 3 uint8
    alpha: np.ndarray | None = None  # H x W uint8, when the upload had transparency
    name: str = "image"

    def to_pil(self, rgb: np.ndarray | None = None) -> Any:
        from PIL import Image

        pixels = self.rgb if rgb is None else rgb
        if self.alpha is not None:
            return Image.fromarray(np.dstack([pixels, self.alpha]), "RGBA")
        return Image.fromarray(pixels, "RGB")


def _eight_bit(image: Any) -> Any:
    """16-bit and 32-bit integer images scaled to 0-255 (PIL's convert would clip them)."""
    from PIL import Image

    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
        return Image.fromarray(np.clip(values / top * 255.0, 0, 255).round().astype(np.uint8), "L")
    if image.mode == "F":
        values = np.asarray(image, dtype=np.float64)
        top = 1.0 if values.max() <= 1.0 else 255.0
        return Image.fromarray(np.clip(values / top * 255.0, 0, 255).round().astype(np.uint8), "L")
    return image


def _from_pil(image: Any, name: str) -> Picture:
    from PIL import ImageOps

    if image.width * image.height > MAX_PIXELS:
        raise BadInput(
            f"{name} is {image.width}×{image.height} pixels; the limit is {MAX_PIXELS // 1_000_000} megapixels. "
            "Upload a smaller picture."
        )
    if image.width < 8 or image.height < 8:
        raise BadInput(f"{name} is {image.width}×{image.height} pixels: too small to hold a face.")
    image = ImageOps.exif_transpose(image)
    image = _eight_bit(image)
    alpha = None
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        alpha = np.asarray(rgba)[..., 3].copy()
        image = rgba
    rgb = np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))
    return Picture(rgb, alpha, name)


def open_picture(source: Any, what: str = "The image") -> Picture:
    """A Picture from a path, a {"path": ...} dict (Gradio), a PIL image or an array."""
    from PIL import Image, UnidentifiedImageError

    if isinstance(source, Picture):
        return source
    if isinstance(source, np.ndarray):
        array = source
        if array.ndim == 2:
            array = np.repeat(array[..., None], 3, axis=2)
        if array.ndim != 3 or array.shape[2] not in (3, 4):
            raise BadInput(f"{what} must be an H×W×3 picture (got an array of shape {source.shape}).")
        if array.dtype == np.uint16:
            array = (array.astype(np.float64) / 257.0).round()
        mode = "RGBA" if array.shape[2] == 4 else "RGB"
        return _from_pil(Image.fromarray(np.clip(array, 0, 255).astype(np.uint8), mode), what)
    if isinstance(source, Image.Image):
        return _from_pil(source, what)
    if isinstance(source, dict):
        source = source.get("path")
    if not source:
        raise BadInput(f"{what} is missing: upload a picture first.")
    path = Path(str(source))
    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_PIXELS:
                return _from_pil(image, path.name)  # refused before its pixels are decoded
            image.load()
            return _from_pil(image, path.name)
    except Image.DecompressionBombError:
        raise BadInput(
            f"{path.name} is far too large; the limit is {MAX_PIXELS // 1_000_000} megapixels. Upload a smaller picture."
        ) from None
    except UnidentifiedImageError:
        raise BadInput(f"{path.name} is not a picture this app can read (use PNG, JPEG or WebP).") from None
    except FileNotFoundError:
        raise BadInput(f"{path.name} was not found: upload it again.") from None
    except OSError:
        raise BadInput(f"{path.name} could not be read as a picture (is the file complete?).") from None


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

