"""Masks for Inpaint: grow, feather, and the box an "only masked area" run works on.

A mask is a boolean H×W array, True where the picture is repainted. Feathering turns it into
an alpha (0..1) that is exactly 0 wherever the grown mask's blur does not reach, so the paste
back leaves every pixel there untouched, byte for byte.
"""

from __future__ import annotations

import math

import numpy as np

from studio.errors import BadInput
from studio.fields import number_between

MAX_GROW = 256
MAX_FEATHER = 256
CONTEXT_SHARE = 0.5  # "only masked area": context around the mask, as a share of its box
MIN_CONTEXT = 32
LATENT_CELL = 8  # pixels of one latent cell (SDXL / SD 1.5 VAE)
MIN_CELLS = 2  # a mask narrower than this many latent cells at the work size is grown


def check_amount(name: str, value: float, high: int) -> int:
    return int(round(number_between(name, value or 0, 0, high, "pixels")))


def require_some(mask: np.ndarray) -> None:
    if not mask.any():
        raise BadInput("The mask is empty: brush over the part of the picture to repaint (or upload a mask "
                       "where white means repaint), then try again.", key="errors.mask_empty")


def grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    """The mask widened by ``pixels`` in every direction (a round brush)."""
    if pixels <= 0:
        return mask.copy()
    import cv2

    size = 2 * pixels + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    return cv2.dilate(mask.astype(np.uint8), kernel) > 0


def feather(mask: np.ndarray, pixels: int) -> np.ndarray:
    """A float32 alpha: 1 on the whole mask, then a soft edge falling to exactly 0 within
    ``pixels`` outside it (the blur is cut at its own reach, not left with a faint tail).

    The soft edge lies outside the mask, not across its border: every brushed (and grown) pixel
    is fully repainted, so no ghost of a removed object is left at the fringe, however the grow
    and feather are set. The model repaints ``repainted_area`` (the mask and the inner half of
    the edge), so the edge blends the new picture into the old."""
    alpha = mask.astype(np.float32)
    if pixels <= 0:
        return alpha
    import cv2

    half = (pixels + 1) // 2
    size = 2 * half + 1
    outer = grow(mask, half).astype(np.float32)
    blurred = cv2.GaussianBlur(outer, (size, size), sigmaX=half / 2.0, borderType=cv2.BORDER_REPLICATE)
    blurred[blurred < 1.0 / 512] = 0.0  # below half a grey level: outside
    np.clip(blurred, 0.0, 1.0, out=blurred)
    blurred[mask] = 1.0
    return blurred


def repainted_area(mask: np.ndarray, feather_pixels: int) -> np.ndarray:
    """What the model is asked to repaint for ``feather(mask, feather_pixels)``: the mask and the
    inner half of its soft edge."""
    return grow(mask, (feather_pixels + 1) // 2) if feather_pixels > 0 else mask.copy()


def bounding_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the True pixels, right and bottom exclusive."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def context_box(box: tuple[int, int, int, int], width: int, height: int) -> tuple[int, int, int, int]:
    """``box`` widened by context on every side (half its size, at least MIN_CONTEXT pixels),
    clipped to the picture: what the model sees around the mask."""
    left, top, right, bottom = box
    pad_x = max(MIN_CONTEXT, int(math.ceil((right - left) * CONTEXT_SHARE / 2)))
    pad_y = max(MIN_CONTEXT, int(math.ceil((bottom - top) * CONTEXT_SHARE / 2)))
    return max(0, left - pad_x), max(0, top - pad_y), min(width, right + pad_x), min(height, bottom + pad_y)


def smallest_side_at(mask: np.ndarray, scale: float) -> float:
    """The narrower side of the mask's box, in pixels of the work size (``scale`` × original)."""
    left, top, right, bottom = bounding_box(mask)
    return min(right - left, bottom - top) * scale


def compose(original: np.ndarray, generated: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``generated`` over ``original`` through ``alpha``; where alpha is 0 the original bytes."""
    a = alpha[:, :, None]
    mixed = original.astype(np.float32) * (1.0 - a) + generated.astype(np.float32) * a
    out = np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
    untouched = alpha == 0
    out[untouched] = original[untouched]
    return out
