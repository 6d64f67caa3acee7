"""Reading a user's picture, one way for every tool (Edit, Describe, the tokenizer's image view,
face swap, image prompts): from an upload path, Gradio's {"path": ...}, a PIL image or an array.

- the size is checked from the file's header, before any pixel is decoded, so a giant upload
  is refused at once instead of filling the server's memory;
- the camera's EXIF rotation is applied, so a phone photo is the right way up;
- 16-bit and float pictures are scaled to 8 bits (PIL's convert would clip them);
- ``on_white``: transparency is put on white, not on the black a plain ``convert("RGB")`` gives;
- every failure is a sentence naming the file: missing, not a picture, damaged, too large.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from studio.errors import BadInput

if TYPE_CHECKING:
    from PIL import Image

FORMATS = "PNG, JPEG or WebP"
MAX_PIXELS = 40_000_000  # a 40-megapixel photo; tools may ask for less
# Modes that can hold transparency (a "P" picture through its transparency entry).
TRANSPARENT_MODES = ("RGBA", "RGBa", "LA", "La", "PA", "P")


def path_of(value: Any) -> Any:
    """The file path in a Gradio FileData / ImageEditor dict, an object with ``.path``, or as given."""
    if isinstance(value, dict):
        return value.get("path") or value.get("url")
    return getattr(value, "path", None) or value


def _missing(what: str, sentence: str | None) -> BadInput:
    if sentence:  # the caller's own English; other languages say the general sentence
        return BadInput(sentence, key="errors.picture_missing", formats=FORMATS)
    return BadInput(f"{what} is missing: upload a picture ({FORMATS}) or send one from another tab.",
                    key="errors.picture_missing", formats=FORMATS)


def megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.1f}"


def check_size(width: int, height: int, what: str, max_pixels: int = MAX_PIXELS, min_side: int = 1) -> None:
    if width * height > max_pixels:
        side = int(max_pixels ** 0.5)
        raise BadInput(
            f"{what} is {width}×{height} pixels ({megapixels(width * height)} megapixels); the limit here is "
            f"{megapixels(max_pixels)} megapixels (e.g. {side}×{side}). Use a smaller picture.",
            key="errors.picture_too_large", size=f"{width}×{height}", limit=megapixels(max_pixels), side=side,
        )
    if min(width, height) < min_side:
        raise BadInput(f"{what} is {width}×{height} pixels: each side must be at least {min_side} pixels.",
                       key="errors.picture_too_small", size=f"{width}×{height}", least=min_side)


def read_picture(source: Any, what: str = "The image", max_pixels: int = MAX_PIXELS, min_side: int = 1,
                 missing: str | None = None) -> Image.Image:
    """The PIL image ``source`` holds, upright and 8-bit, in its own mode (transparency kept).
    ``missing``: the sentence for no picture at all (default: "<what> is missing: upload ...")."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if source is None or (isinstance(source, str) and not source.strip()):
        raise _missing(what, missing)
    if isinstance(source, np.ndarray):
        source = _from_array(source, what)
    if isinstance(source, Image.Image):
        check_size(source.width, source.height, what, max_pixels, min_side)
        return eight_bit(ImageOps.exif_transpose(source))
    path = path_of(source)
    if not path:
        raise _missing(what, missing)
    name = Path(str(path)).name[:80]
    try:
        image = Image.open(path)  # reads the header only
        check_size(image.width, image.height, what, max_pixels, min_side)
        image.load()
        return eight_bit(ImageOps.exif_transpose(image))
    except Image.DecompressionBombError:
        raise BadInput(f"{what} ({name}) is far too large; the limit here is {megapixels(max_pixels)} megapixels. "
                       "Use a smaller picture.", key="errors.picture_bomb", name=name,
                       limit=megapixels(max_pixels)) from None
    except UnidentifiedImageError:
        raise BadInput(f"{what} ({name}) is not a picture this app can read: use {FORMATS}.",
                       key="errors.picture_unreadable", name=name, formats=FORMATS) from None
    except FileNotFoundError:
        raise BadInput(f"{what} ({name}) cannot be found: upload it again.", key="errors.picture_gone",
                       name=name) from None
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or damaged files raise all three
        raise BadInput(f"{what} ({name}) is damaged or incomplete ({str(exc)[:80]}).", key="errors.picture_damaged",
                       name=name) from None


def read_rgb(source: Any, what: str = "The image", max_pixels: int = MAX_PIXELS, min_side: int = 1,
             missing: str | None = None) -> Image.Image:
    """``read_picture`` as RGB, transparency on white."""
    return on_white(read_picture(source, what, max_pixels, min_side, missing))


def on_white(image: Image.Image) -> Image.Image:
    """``image`` as RGB, its transparent parts composited on white (not black, which a plain
    ``convert("RGB")`` would give): the one rule for uploads, arrays and pictures from the UI."""
    from PIL import Image

    if image.mode == "RGB":
        return image
    if image.mode in TRANSPARENT_MODES:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def eight_bit(image: Image.Image) -> Image.Image:
    """16-bit and 32-bit integer or float pictures scaled to 0-255 grey (PIL would clip them)."""
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


def _from_array(array: np.ndarray, what: str) -> Image.Image:
    """An H×W, H×W×3 or H×W×4 array (8 or 16 bits) as a PIL image."""
    from PIL import Image

    original = array.shape
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise BadInput(f"{what} must be an H×W×3 picture (got an array of shape {original}).")
    if array.dtype == np.uint16:
        array = (array.astype(np.float64) / 257.0).round()
    mode = "RGBA" if array.shape[2] == 4 else "RGB"
    return Image.fromarray(np.clip(array, 0, 255).astype(np.uint8), mode)
