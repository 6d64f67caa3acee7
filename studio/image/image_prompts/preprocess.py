"""What each slot's picture becomes before the model sees it, with OpenCV and numpy.

- PyraCanny: canny edges over an image pyramid. Nine scales from 0.2 to 1.0 of the size
  (area downscale); canny on each colour channel with thresholds 64 / 128; merged from the
  coarsest scale to the finest (the accumulator upsampled, times 0.75, plus the new edges
  times 0.25); channels summed; stretched between the 1st and 99th percentiles to 0-255.
  Coarse scales see faint, wide edges that canny at full size misses.
- CPDS: OpenCV's contrast-preserving decolorisation (``cv2.decolor``) of the lightly blurred
  picture, plus the per-pixel distance between the blurred picture and decolor's colour
  boost, stretched between the 4th and 96th percentiles: a structure map that keeps edges
  between colours of equal brightness.
- ImagePrompt: the square the CLIP image encoder reads (its processor resizes the shorter
  side and crops the centre).
- FaceSwap: the largest face found, cropped square with a margin.

Maps are H x W x 3 uint8 (grey repeated), the size of the picture they are given; the
generation first fits the picture to the output size (cover, centre crop), so the map
lines up with the image drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from studio.errors import BadInput

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from studio.context import StudioContext
    from studio.faces.images import Picture
    from studio.image.image_prompts.slots import ImagePromptSlot

PYRAMID_SCALES = tuple(float(s) for s in np.linspace(0.2, 1.0, 9))
CANNY_LOW, CANNY_HIGH = 64, 128
PYRAMID_KEEP = 0.75  # the upsampled accumulator's share at each finer scale
CPDS_BLUR_SIGMA = 0.8
PYRA_PERCENTILES = (1, 99)
CPDS_PERCENTILES = (4, 96)
ENCODER_VIEW = 224  # the side the CLIP ViT-H image encoder reads
FACE_MARGIN = 1.6  # crop side / the face box's longer side
FACE_VIEW = 224


def stretch(values: np.ndarray, low_pct: float, high_pct: float) -> np.ndarray:
    """``values`` mapped so the low_pct-th percentile is 0 and the high_pct-th is 255, clipped.
    A flat input stays 0; when the high percentile is the low one (edges on fewer pixels than
    the top percent), every value above it saturates."""
    low, high = np.percentile(values, (low_pct, high_pct))
    scaled = (values - low) / max(float(high - low), 1e-5) * 255.0
    return np.clip(scaled, 0, 255).round().astype(np.uint8)


def _grey3(grey: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.repeat(grey[..., None], 3, axis=2))


def channel_canny(rgb: np.ndarray) -> np.ndarray:
    """Canny on each colour channel: H x W x 3 float32 of 0 / 255."""
    import cv2

    return np.stack([cv2.Canny(np.ascontiguousarray(rgb[..., c]), CANNY_LOW, CANNY_HIGH) for c in range(3)],
                    axis=2).astype(np.float32)


def pyramid_canny(rgb: np.ndarray) -> np.ndarray:
    import cv2

    height, width = rgb.shape[:2]
    merged = None
    for scale in PYRAMID_SCALES:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = rgb if size == (width, height) else cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        edges = channel_canny(small)
        if merged is None:
            merged = edges
        else:
            merged = cv2.resize(merged, size, interpolation=cv2.INTER_LINEAR) * PYRAMID_KEEP + edges * (1 - PYRAMID_KEEP)
    return _grey3(stretch(merged.sum(axis=2), *PYRA_PERCENTILES))


def cpds(rgb: np.ndarray) -> np.ndarray:
    import cv2

    blurred = cv2.GaussianBlur(np.ascontiguousarray(rgb), (0, 0), CPDS_BLUR_SIGMA)
    bgr = np.ascontiguousarray(blurred[..., ::-1])  # OpenCV's channel order
    grey, boost = cv2.decolor(bgr)
    distance = np.linalg.norm(bgr.astype(np.float32) - boost.astype(np.float32), axis=2)
    return _grey3(stretch(grey.astype(np.float32) + distance, *CPDS_PERCENTILES))


def fit(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """The picture scaled to cover width x height and centre-cropped to it (no distortion)."""
    import cv2

    h, w = rgb.shape[:2]
    if (w, h) == (width, height):
        return rgb
    scale = max(width / w, height / h)
    size = (max(width, round(w * scale)), max(height, round(h * scale)))
    shrinking = scale < 1
    resized = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)
    top, left = (size[1] - height) // 2, (size[0] - width) // 2
    return np.ascontiguousarray(resized[top:top + height, left:left + width])


def encoder_view(rgb: np.ndarray, side: int = ENCODER_VIEW) -> np.ndarray:
    """The centre square the image encoder reads, at its input size."""
    return fit(rgb, side, side)


def face_crop(rgb: np.ndarray, box: Any, side: int = FACE_VIEW) -> np.ndarray:
    """A square around ``box`` (x1, y1, x2, y2), FACE_MARGIN times its longer side, padded with
    the edge pixels where it leaves the picture, at ``side`` pixels."""
    import cv2

    x1, y1, x2, y2 = (float(v) for v in box)
    half = max(x2 - x1, y2 - y1) * FACE_MARGIN / 2
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    left, top = int(round(cx - half)), int(round(cy - half))
    size = max(2, int(round(2 * half)))
    h, w = rgb.shape[:2]
    pad = max(0, -left, -top, left + size - w, top + size - h)
    source = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REPLICATE) if pad else rgb
    crop = source[top + pad:top + pad + size, left + pad:left + pad + size]
    return np.ascontiguousarray(cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA if size > side else cv2.INTER_CUBIC))


def largest_face(studio: StudioContext, picture: Picture, number: int = 1) -> np.ndarray:
    """The largest face of ``picture``, cropped; a sentence when there is none."""
    from studio.faces.pipeline import find_faces

    _, faces = find_faces(studio, picture)
    if not faces:
        raise BadInput(
            f"No face was found in the FaceSwap picture of image prompt {number}. Use a photo where one face is "
            "clear, facing the camera and not too small, or pick another type for this picture."
        )
    return face_crop(picture.rgb, max(faces, key=lambda face: face.area).box)


MAPS = {"PyraCanny": pyramid_canny, "CPDS": cpds}


def control_map(kind: str, rgb: np.ndarray) -> np.ndarray:
    return MAPS[kind](rgb)


def preview(studio: StudioContext, slot: ImagePromptSlot, number: int = 1) -> np.ndarray:
    """What the model is told by a checked slot, at the picture's own size (maps), or the
    encoder's view (ImagePrompt) and the face crop (FaceSwap)."""
    if slot.type in MAPS:
        return control_map(slot.type, slot.rgb)
    if slot.type == "FaceSwap":
        return largest_face(studio, slot.image, number)
    return encoder_view(slot.rgb)
