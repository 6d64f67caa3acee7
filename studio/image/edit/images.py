"""The user's picture and mask for the edit tools: any file PIL opens, as RGB, with a clear
sentence for "no image", a file that is not an image, and a picture over the size limits.

The size is read from the file's header before any pixel is decoded, so a giant upload is
refused at once instead of filling the server's memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from studio.errors import BadInput
from studio.fields import number_between

# Diffusion edits (Vary, Inpaint, Outpaint) work on pictures up to 4096×4096 (and the
# outpainted canvas up to the same); an upscale may produce up to 8192×8192.
MAX_EDIT_PIXELS = 4096 * 4096
MAX_UPSCALE_OUTPUT_PIXELS = 8192 * 8192
MIN_SIDE = 16
FORMATS = "PNG, JPEG or WebP"


def denoise_of(value: Any, name: str = "Denoise") -> float:
    """How much of the picture a diffusion edit redraws: 0.01 (a touch) to 1 (all of it)."""
    return number_between(name, value, 0.01, 1.0)


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.1f}"


def check_size(width: int, height: int, what: str, max_pixels: int = MAX_EDIT_PIXELS) -> None:
    if width * height > max_pixels:
        raise BadInput(
            f"{what} is {width}×{height} pixels ({_megapixels(width * height)} megapixels); the limit here is "
            f"{_megapixels(max_pixels)} megapixels (e.g. {int(max_pixels ** 0.5)}×{int(max_pixels ** 0.5)}). "
            "Use a smaller picture."
        )
    if min(width, height) < MIN_SIDE:
        raise BadInput(f"{what} is {width}×{height} pixels: each side must be at least {MIN_SIDE} pixels.")


def _path_of(value: Any) -> Any:
    if isinstance(value, dict):  # Gradio FileData / ImageEditor parts arrive as dicts
        return value.get("path") or value.get("url")
    return getattr(value, "path", None) or value


# Modes that can hold transparency (a "P" picture through its transparency entry).
_TRANSPARENT_MODES = ("RGBA", "RGBa", "LA", "La", "PA", "P")


def on_white(image: Any):
    """``image`` as RGB, its transparent parts composited on white (not black, which a plain
    ``convert("RGB")`` would give): the one rule for uploads, arrays and pictures from the UI."""
    from PIL import Image

    if image.mode == "RGB":
        return image
    if image.mode in _TRANSPARENT_MODES:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def open_image(value: Any, what: str = "The image", max_pixels: int = MAX_EDIT_PIXELS):
    """A PIL RGB image from a path, a PIL image or an array; a sentence for anything else."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if value is None or (isinstance(value, str) and not value.strip()):
        raise BadInput(f"{what} is missing: upload a picture ({FORMATS}) or send one from another tab.")
    if isinstance(value, np.ndarray):
        value = Image.fromarray(value.astype(np.uint8))
    if isinstance(value, Image.Image):
        check_size(value.width, value.height, what, max_pixels)
        return on_white(value)
    path = _path_of(value)
    name = Path(str(path)).name[:80]
    try:
        image = Image.open(path)  # reads the header only
    except (UnidentifiedImageError, ValueError):
        raise BadInput(f"{what} ({name}) is not a picture this app can read: use {FORMATS}.") from None
    except OSError as exc:
        raise BadInput(f"{what} ({name}) cannot be opened ({str(exc)[:80]}).") from None
    check_size(image.width, image.height, what, max_pixels)
    try:
        return on_white(ImageOps.exif_transpose(image))
    except (OSError, ValueError) as exc:  # a truncated or damaged file
        raise BadInput(f"{what} ({name}) is damaged or incomplete ({str(exc)[:80]}).") from None


def open_mask(value: Any, size: tuple[int, int], what: str = "The mask") -> np.ndarray:
    """A boolean H×W mask (True = repaint) from a black-and-white picture (white = repaint) or
    a transparent layer (painted = repaint); it must be the image's size."""
    from PIL import Image

    if value is None:
        raise BadInput(f"{what} is missing: brush over the part to repaint.")
    if isinstance(value, np.ndarray):
        array = value
    else:
        if not isinstance(value, Image.Image):
            path = _path_of(value)
            try:
                value = Image.open(path)
            except (OSError, ValueError):
                raise BadInput(f"{what} is not a picture this app can read: use {FORMATS}.") from None
        if value.size != tuple(size):
            raise BadInput(
                f"{what} is {value.width}×{value.height} pixels but the image is {size[0]}×{size[1]}: "
                "the mask must have the image's size."
            )
        array = _mask_array(value)
    if array.shape[:2] != (size[1], size[0]):
        raise BadInput(
            f"{what} is {array.shape[1]}×{array.shape[0]} pixels but the image is {size[0]}×{size[1]}: "
            "the mask must have the image's size."
        )
    if array.ndim == 3:
        array = array.max(axis=2)
    return array > 127 if array.dtype != bool else array


def _mask_array(image: Any) -> np.ndarray:
    if image.mode in ("RGBA", "LA"):
        alpha = np.asarray(image.getchannel("A"))
        if alpha.min() < 255:  # a transparent layer: what was painted is the mask
            return alpha
    return np.asarray(image.convert("L"))


def mask_from_layers(background_size: tuple[int, int], layers: list[Any]) -> np.ndarray:
    """The union of an image editor's brush layers (anything painted, whatever its colour)."""
    from PIL import Image

    mask = np.zeros((background_size[1], background_size[0]), dtype=bool)
    for layer in layers or []:
        if layer is None:
            continue
        if not isinstance(layer, (Image.Image, np.ndarray)):
            layer = Image.open(_path_of(layer))
        array = np.asarray(layer)
        if array.shape[:2] != mask.shape:
            continue  # a layer of another size is not a brush layer of this image
        if array.ndim == 3 and array.shape[2] == 4:
            mask |= array[:, :, 3] > 0
        elif array.ndim == 3:
            mask |= array.max(axis=2) > 127
        else:
            mask |= array > 127
    return mask
