"""Image prompt slots: a picture, what it tells the model (its type), a weight and a stop-at.

Fooocus's four types and their defaults (stop-at, weight):

- ImagePrompt (0.5, 0.6): an IP-Adapter reads the picture's style and content.
- PyraCanny (0.5, 1.0): edges over an image pyramid, fed to a canny ControlNet.
- CPDS (0.5, 1.0): a contrast-preserving structure map, fed to a structure ControlNet.
- FaceSwap (0.9, 0.75): a face-identity IP-Adapter reads the largest face, cropped.

The weight scales what the slot adds (0 = the slot does nothing, so it is skipped); the
slot acts on the first ``stop_at`` fraction of the steps: on step j (from 0) of n while
(j + 1) / n <= stop_at, the rule diffusers applies to ``control_guidance_end``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio.errors import BadInput
from studio.fields import number_between

if TYPE_CHECKING:
    import numpy as np

IMAGE_PROMPT, PYRA_CANNY, CPDS, FACE_SWAP = "ImagePrompt", "PyraCanny", "CPDS", "FaceSwap"
TYPES = (IMAGE_PROMPT, PYRA_CANNY, CPDS, FACE_SWAP)
# type -> (stop_at, weight), Fooocus's defaults
DEFAULTS: dict[str, tuple[float, float]] = {
    IMAGE_PROMPT: (0.5, 0.6), PYRA_CANNY: (0.5, 1.0), CPDS: (0.5, 1.0), FACE_SWAP: (0.9, 0.75),
}
CONTROLNET_TYPES = (PYRA_CANNY, CPDS)  # steer through a ControlNet
IP_ADAPTER_TYPES = (IMAGE_PROMPT, FACE_SWAP)  # steer through an IP-Adapter
MAX_SLOTS = 4
WEIGHT_RANGE = (0.0, 2.0)
STOP_RANGE = (0.0, 1.0)
MAX_IMAGE_SIDE = 2048  # a slot's picture is shrunk to this on its longer side once read


def type_name(value: Any) -> str:
    """The canonical type name (case and spaces ignored), or a sentence listing the four."""
    wanted = str(value or "").strip().replace(" ", "").lower()
    for name in TYPES:
        if name.lower() == wanted:
            return name
    raise BadInput(f"Unknown image prompt type {str(value)[:40]!r}: pick one of {', '.join(TYPES)}.")


def image_hash(rgb: np.ndarray) -> str:
    """A short fingerprint of a slot's picture (its pixels and size), for the saved metadata."""
    digest = hashlib.sha256(f"{rgb.shape[1]}x{rgb.shape[0]}".encode())
    digest.update(rgb.tobytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True, eq=False)
class ImagePromptSlot:
    """One slot. ``image`` is anything studio.faces.images.open_picture reads; once checked it
    is a Picture (8-bit RGB pixels). ``stop_at`` / ``weight`` None = the type's defaults."""

    image: Any
    type: str
    weight: float | None = None
    stop_at: float | None = None

    @property
    def rgb(self) -> np.ndarray:
        return self.image.rgb

    def record(self) -> dict[str, Any]:
        """What the saved metadata keeps: the settings and a hash of the picture, not the picture."""
        rgb = getattr(self.image, "rgb", None)
        return {
            "type": self.type, "weight": self.weight, "stop_at": self.stop_at,
            "image_sha256": image_hash(rgb) if rgb is not None else None,
            "image_size": [int(rgb.shape[1]), int(rgb.shape[0])] if rgb is not None else None,
        }

    def a1111(self) -> str:
        return f"{self.type} {self.weight:g}/{self.stop_at:g} #{image_hash(self.rgb)[:8]}"


def _as_slot(item: Any, number: int) -> ImagePromptSlot:
    if isinstance(item, ImagePromptSlot):
        return item
    if isinstance(item, dict):
        return ImagePromptSlot(item.get("image"), item.get("type"), item.get("weight"),
                               item.get("stop_at", item.get("stop")))
    if isinstance(item, (list, tuple)) and 2 <= len(item) <= 4:
        return ImagePromptSlot(*item)
    raise BadInput(f"Image prompt {number} must be {{image, type, weight, stop_at}} (got {type(item).__name__}).")


def check_slot(item: Any, number: int = 1) -> ImagePromptSlot:
    """One slot validated: a readable picture (refused past the size limit), a known type,
    weight and stop-at in range (None = the type's defaults)."""
    from studio.faces.images import open_picture, shrink

    slot = _as_slot(item, number)
    kind = type_name(slot.type)
    stop_default, weight_default = DEFAULTS[kind]
    label = f"Image prompt {number} ({kind})"
    weight = weight_default if slot.weight in (None, "") else number_between(f"{label}: weight", slot.weight, *WEIGHT_RANGE)
    stop = stop_default if slot.stop_at in (None, "") else number_between(f"{label}: stop at", slot.stop_at, *STOP_RANGE)
    if slot.image is None or (isinstance(slot.image, str) and not slot.image.strip()):
        raise BadInput(f"{label} has no picture: upload one, or clear the slot.")
    picture = shrink(open_picture(slot.image, f"The picture of image prompt {number}"), MAX_IMAGE_SIDE)
    return ImagePromptSlot(picture, kind, weight, stop)


def check_slots(items: Any) -> tuple[ImagePromptSlot, ...]:
    if items is None or items == "":
        return ()
    if isinstance(items, (dict, ImagePromptSlot)):
        items = [items]
    items = [item for item in items if item is not None]
    if len(items) > MAX_SLOTS:
        raise BadInput(f"At most {MAX_SLOTS} image prompts at once (got {len(items)}).")
    return tuple(check_slot(item, number) for number, item in enumerate(items, 1))


def active_at(step: int, total: int, stop_at: float) -> bool:
    """Whether a slot with ``stop_at`` acts on step ``step`` (0-based) of ``total``: the same
    rounding diffusers uses for ``control_guidance_end`` (for 0.5 of 30 steps: steps 0-14)."""
    return (step + 1) / max(total, 1) <= stop_at


# --- a map of the picture an edit redraws, kept in line with the part it redraws ---------------

def _same_picture_scale(slot: ImagePromptSlot, size: tuple[int, int]) -> float | None:
    """The slot's pixels per pixel of a ``size`` picture when the slot has its aspect ratio (to a
    pixel: the checked slot may be that picture shrunk), else None."""
    height, width = slot.rgb.shape[:2]
    scale = width / size[0]
    return scale if abs(height - size[1] * scale) <= 1 + scale else None


def _with_pixels(slot: ImagePromptSlot, rgb: np.ndarray) -> ImagePromptSlot:
    import numpy as np

    from studio.faces.images import Picture

    picture = Picture(np.ascontiguousarray(rgb), None, getattr(slot.image, "name", "image"))
    return ImagePromptSlot(picture, slot.type, slot.weight, slot.stop_at)


def cut_to(slots: tuple[ImagePromptSlot, ...], size: tuple[int, int], box: tuple[int, int, int, int]
           ) -> tuple[ImagePromptSlot, ...]:
    """Checked ``slots`` for an edit that redraws ``box`` (left, top, right, bottom) of a ``size``
    picture: a PyraCanny or CPDS slot with that picture's aspect ratio is read as a map of it, so
    the part under ``box`` is what steers (its edges line up with the crop). Other slots, and maps
    of other shapes, are left as they are: the generation fits them to the crop, as Fooocus does."""
    out = []
    for slot in slots:
        scale = _same_picture_scale(slot, size) if slot.type in CONTROLNET_TYPES else None
        if scale is None or tuple(box) == (0, 0, *size):
            out.append(slot)
            continue
        height, width = slot.rgb.shape[:2]
        left, top, right, bottom = (int(round(v * scale)) for v in box)
        right, bottom = min(width, max(right, left + 1)), min(height, max(bottom, top + 1))
        out.append(_with_pixels(slot, slot.rgb[top:bottom, left:right]))
    return tuple(out)


def placed_in(slots: tuple[ImagePromptSlot, ...], size: tuple[int, int], margins: tuple[int, int, int, int]
              ) -> tuple[ImagePromptSlot, ...]:
    """Checked ``slots`` for an edit that extends a ``size`` picture by ``margins`` (left, top,
    right, bottom): a PyraCanny or CPDS map of the picture is carried out to the canvas with its
    edge pixels (a flat area: no edges, no structure), so it lines up with the original's place."""
    import numpy as np

    out = []
    for slot in slots:
        scale = _same_picture_scale(slot, size) if slot.type in CONTROLNET_TYPES else None
        if scale is None or not any(margins):
            out.append(slot)
            continue
        left, top, right, bottom = (int(round(v * scale)) for v in margins)
        out.append(_with_pixels(slot, np.pad(slot.rgb, ((top, bottom), (left, right), (0, 0)), mode="edge")))
    return tuple(out)
