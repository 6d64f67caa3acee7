"""Repaint one masked part of a picture, the work Inpaint and Enhance share.

The mask (already grown) is feathered; with ``only_masked_area`` the box around it plus context
is cut out and scaled to the checkpoint's own resolution, so a small mask is redrawn with the
model's full detail; otherwise the whole picture is scaled to it. A mask narrower than two latent
cells at that size would barely reach the model: it is grown until it is not, and the notes say
so. The repainted part is scaled back and pasted through the feathered mask: every pixel outside
it is the original's, byte for byte.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from studio.image.edit import masks, work
from studio.image.image_prompts import slots as image_prompt_slots

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from PIL import Image

    from studio.context import StudioContext
    from studio.image.request import ImageResult
    from studio.progress import Label, Task


@dataclass
class Repainted:
    image: Image.Image  # RGB, the whole picture with the part pasted back
    made: ImageResult  # the diffusion run (seed, steps, parameters, notes)
    grow_used: int  # the grow asked for, plus what a too-narrow mask needed
    box: tuple[int, int, int, int]  # the part redrawn (left, top, right, bottom; right and bottom exclusive)
    changed_box: tuple[int, int, int, int]  # where pixels may differ: the feathered mask's box
    work_size: tuple[int, int]
    notes: list[str] = field(default_factory=list)

    def settings(self) -> dict[str, Any]:
        left, top, right, bottom = self.box
        return {"mask_grow_used": self.grow_used, "region": f"{left},{top},{right},{bottom}",
                "work_size": f"{self.work_size[0]}x{self.work_size[1]}"}


def repaint(studio: StudioContext, image: Image.Image, grown: np.ndarray, grow_px: int, feather_px: int,
            only_masked: bool, denoise: float, diffusion: work.Diffusion, ready: work.EditPlan, task: Task | None,
            label: Label) -> Repainted:
    """``image`` (PIL RGB) with the part ``grown`` marks redrawn at ``denoise`` by ``diffusion``'s
    model (``ready``: its checked plan), its progress under ``label``."""
    from PIL import Image

    width, height = image.size
    notes: list[str] = []
    for _ in range(8):  # grow until the mask reaches the model (a few rounds at most)
        alpha = masks.feather(grown, feather_px)
        box = masks.context_box(masks.bounding_box(alpha > 0), width, height) if only_masked else (0, 0, width, height)
        box_w, box_h = box[2] - box[0], box[3] - box[1]
        work_w, work_h = work.fit_area(box_w, box_h, ready.side, ready.multiple)
        scale = work_w / box_w
        narrow = masks.smallest_side_at(grown, scale)
        needed = masks.MIN_CELLS * masks.LATENT_CELL
        if narrow >= needed:
            break
        extra = max(1, math.ceil((needed - narrow) / scale / 2))
        grown = masks.grow(grown, extra)
        grow_px += extra
        notes.append(f"The mask was only {narrow:.0f} px across at the model's {work_w}×{work_h}, less than "
                     f"{needed} px (two latent cells): it was grown by {extra} px so that it is repainted.")
    left, top, right, bottom = box
    crop = image.crop(box).resize((work_w, work_h), Image.Resampling.LANCZOS)
    repaint_area = masks.repainted_area(grown, feather_px)
    mask_crop = Image.fromarray((repaint_area[top:bottom, left:right] * 255).astype(np.uint8)).resize(
        (work_w, work_h), Image.Resampling.NEAREST)
    # A PyraCanny / CPDS map of this picture steers the crop with the same part of it.
    steering = replace(diffusion, image_prompts=image_prompt_slots.cut_to(ready.image_prompts, image.size, box))
    made = work.run(studio, steering.request("inpaint", crop, denoise, ready.seed, mask=mask_crop), task, label)
    painted = made.image.resize((box_w, box_h), Image.Resampling.LANCZOS)
    original = np.asarray(image)
    out = original.copy()
    out[top:bottom, left:right] = masks.compose(original[top:bottom, left:right], np.asarray(painted),
                                               alpha[top:bottom, left:right])
    return Repainted(Image.fromarray(out), made, grow_px, box, masks.bounding_box(alpha > 0), (work_w, work_h), notes)
