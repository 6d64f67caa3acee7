"""The user's picture and mask for the edit tools: the picture read as every tool reads one
(studio.pictures.reading), within the edit tools' size limits; the mask from a black-and-white
picture, a transparent layer or the image editor's brush layers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from studio.errors import BadInput
from studio.fields import number_between
from studio.pictures import reading
from studio.pictures.reading import FORMATS

if TYPE_CHECKING:
    from PIL import Image

# Diffusion edits (Vary, Inpaint, Outpaint) work on pictures up to 4096×4096 (and the
# outpainted canvas up to the same); an upscale may produce up to 8192×8192.
MAX_EDIT_PIXELS = 4096 * 4096
MAX_UPSCALE_OUTPUT_PIXELS = 8192 * 8192
MIN_SIDE = 16
DENOISE_RANGE = (0.01, 1.0)  # a touch .. all of it


def denoise_of(value: Any, name: str = "Denoise") -> float:
    """How much of the picture a diffusion edit redraws: 0.01 (a touch) to 1 (all of it)."""
    return number_between(name, value, *DENOISE_RANGE)


def check_size(width: int, height: int, what: str, max_pixels: int = MAX_EDIT_PIXELS) -> None:
    reading.check_size(width, height, what, max_pixels, MIN_SIDE)


def open_image(value: Any, what: str = "The image", max_pixels: int = MAX_EDIT_PIXELS):
    """A PIL RGB image from a path, a PIL image or an array (studio.pictures.reading: upright,
    transparency on white); a sentence for anything else."""
    return reading.read_rgb(value, what, max_pixels, MIN_SIDE)


def open_mask(value: Any, size: tuple[int, int], what: str = "The mask") -> np.ndarray:
    """A boolean H×W mask (True = repaint) from a black-and-white picture (white = repaint) or
    a transparent layer (painted = repaint); it must be the image's size."""
    from PIL import Image

    if value is None:
        raise BadInput(f"{what} is missing: brush over the part to repaint.", key="errors.mask_empty")
    if isinstance(value, np.ndarray):
        array = value
    else:
        if not isinstance(value, Image.Image):
            path = reading.path_of(value)
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


def _mask_array(image: Image.Image) -> np.ndarray:
    if image.mode in ("RGBA", "LA"):
        alpha = np.asarray(image.getchannel("A"))
        if alpha.min() < 255:  # a transparent layer: what was painted is the mask
            return alpha
    return np.asarray(image.convert("L"))


def from_editor(value: Any) -> tuple[Any, list]:
    """The picture and the brush layers of an image editor's value ({"background", "layers"}); a
    plain picture (a path, an upload) has no layers."""
    if not isinstance(value, dict) or "background" not in value:
        return value, []
    return value.get("background"), [layer for layer in value.get("layers") or [] if layer is not None]


def mask_from_layers(background_size: tuple[int, int], layers: list[Any]) -> np.ndarray:
    """The union of an image editor's brush layers (anything painted, whatever its colour)."""
    from PIL import Image

    mask = np.zeros((background_size[1], background_size[0]), dtype=bool)
    for layer in layers or []:
        if layer is None:
            continue
        if not isinstance(layer, (Image.Image, np.ndarray)):
            layer = Image.open(reading.path_of(layer))
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
