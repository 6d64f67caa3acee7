"""Paste an aligned face back into the full image through the inverse alignment, under a
feathered mask, so only the face region changes and its edge is invisible."""

from __future__ import annotations

import functools

import numpy as np

from studio.errors import BadInput
from studio.faces import align

REGIONS = ("box", "oval")
BORDER = 2  # crop pixels left out at the edge, where warping smears replicated borders


def crop_mask(size: int, feather: float, region: str = "box") -> np.ndarray:
    """A size x size float mask: 1 inside, ramping to 0 over ``feather`` (a fraction of the
    crop side) towards the crop edge, or towards an oval around the face for ``oval``.
    Read-only and cached: every face of a request (and the next request) uses the same one."""
    return _crop_mask(int(size), float(feather), str(region))


@functools.lru_cache(maxsize=32)
def _crop_mask(size: int, feather: float, region: str) -> np.ndarray:
    if region not in REGIONS:
        raise BadInput(f"The mask region must be one of {', '.join(REGIONS)} (got {region!r}).")
    if not 0 <= feather <= 0.5:
        raise BadInput(f"The mask feather must be between 0 and 0.5 of the face size (got {feather}).")
    ramp = max(feather * size, 1.0)
    ys, xs = np.mgrid[:size, :size].astype(np.float32) + 0.5
    if region == "box":
        inside = np.minimum.reduce([xs, size - xs, ys, size - ys]) - BORDER
    else:
        # An oval over eyes, nose and mouth of the aligned crop, slightly taller than wide.
        cx, cy, ax, ay = size / 2, size * 0.55, size * 0.42, size * 0.47
        radius = np.sqrt(((xs - cx) / ax) ** 2 + ((ys - cy) / ay) ** 2)
        inside = (1.0 - radius) * min(ax, ay)
    mask = np.clip(inside / ramp, 0.0, 1.0).astype(np.float32)
    mask.setflags(write=False)
    return mask


def match_colour(face: np.ndarray, original: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Shift the new face's mean colour to the original face's, inside the mask: a swapper
    renders its own skin tone and lighting, which would show as a patch."""
    weight = mask[..., None]
    total = float(weight.sum())
    if total < 1:
        return face
    shift = ((original.astype(np.float32) - face.astype(np.float32)) * weight).sum((0, 1)) / total
    return np.clip(face.astype(np.float32) + shift, 0, 255)


def paste(image: np.ndarray, face: np.ndarray, matrix: np.ndarray, blend: float = 1.0, feather: float = 0.1,
          region: str = "box", original_crop: np.ndarray | None = None, inplace: bool = False) -> np.ndarray:
    """A copy of ``image`` (H x W x 3 uint8) with ``face`` (an aligned crop made by ``matrix``)
    pasted back. ``blend`` 0 keeps the image, 1 takes the new face fully; pixels the mask
    does not reach are left exactly as they were. ``inplace`` writes into ``image`` itself
    (a caller pasting many faces into a large photo copies it once, not once per face)."""
    import cv2

    if not 0 <= blend <= 1:
        raise BadInput(f"The blend must be between 0 and 1 (got {blend}).")
    result = image if inplace else image.copy()
    if blend == 0:
        return result
    size = face.shape[0]
    mask = crop_mask(size, feather, region)
    if original_crop is not None:
        face = match_colour(face, original_crop, mask)
    inverse = align.invert(matrix)
    # Only the bounding box of the warped crop can change: warp into that window alone.
    corners = align.apply(inverse, np.array([[0, 0], [size, 0], [0, size], [size, size]], np.float64))
    height, width = image.shape[:2]
    x0, y0 = (max(0, int(np.floor(v)) - 1) for v in corners.min(0))
    x1, y1 = (min(limit, int(np.ceil(v)) + 1) for v, limit in zip(corners.max(0), (width, height)))
    if x1 <= x0 or y1 <= y0:
        return result  # the face lies outside the image
    window = inverse.copy()
    window[:, 2] -= (x0, y0)
    box = (x1 - x0, y1 - y0)
    warped_face = cv2.warpAffine(face.astype(np.float32), window, box, flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
    warped_mask = cv2.warpAffine(mask, window, box, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                 borderValue=0.0)
    alpha = (np.clip(warped_mask, 0, 1) * blend)[..., None]
    part = result[y0:y1, x0:x1]
    mixed = np.clip(part * (1 - alpha) + warped_face * alpha, 0, 255).round().astype(np.uint8)
    result[y0:y1, x0:x1] = np.where(alpha > 0, mixed, part)
    return result
