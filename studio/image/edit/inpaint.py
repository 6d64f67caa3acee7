"""Inpaint: repaint a brushed region with the Image tab's checkpoint, leave the rest alone.

1. The mask (white / painted = repaint) is checked (an empty one is refused), grown by
   ``mask_grow`` pixels and feathered by ``mask_feather`` pixels.
2. **Only masked area** (the default): the box around the feathered mask plus context (half
   its size, at least 32 px) is cut out and scaled to the checkpoint's own resolution (about
   1024² for SDXL), so even a small mask is repainted with the model's full detail instead of
   a few blurry latent cells; **whole image**: the picture is scaled to that resolution.
3. A mask narrower than two latent cells (16 px) at that size would barely reach the model:
   it is grown until it is not, and the result says so. A mask covering everything is plain
   img2img (same seed, same steps: the same picture Vary gives at that denoise).
4. The inpaint pipeline of the checkpoint's family (an inpainting checkpoint's 9-channel UNet
   when picked, the base model's otherwise) redraws it at ``denoise`` (Fooocus: 1.0).
5. The repainted part is scaled back and pasted through the feathered mask: every pixel
   outside it is the original's, byte for byte.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from studio import progress
from studio.image.edit import images, masks, work
from studio.image.edit.results import EditResult
from studio.tools import declare
from studio.tools.fields import declared

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from studio.context import StudioContext

DEFAULT_GROW = 8
DEFAULT_FEATHER = 8
DEFAULT_DENOISE = 1.0


@dataclass(frozen=True)
class InpaintRequest:
    # On the page the picture is a brush editor: its brush layers make the mask when no mask file
    # is given (studio.image.edit.images.from_editor).
    image: Any = declared(kind="picture", label="edit.editor", hint="editor", doc="the picture to repaint")
    mask: Any = declared(kind="mask", label="edit.mask_file", optional=True,
                         doc="same size; white (or painted on a transparent layer) = repaint")
    mask_grow: int = declared(DEFAULT_GROW, low=0, high=masks.MAX_GROW, label="edit.mask_grow", unit="pixels")
    mask_feather: int = declared(DEFAULT_FEATHER, low=0, high=masks.MAX_FEATHER, label="edit.mask_feather",
                                 unit="pixels")
    only_masked_area: bool = declared(True, label="edit.only_masked", info="edit.only_masked_info",
                                      doc="repaint a crop around the mask at the model's resolution")
    denoise: float = declared(DEFAULT_DENOISE, low=images.DENOISE_RANGE[0], high=images.DENOISE_RANGE[1], step=0.01,
                              label="edit.inpaint_denoise")
    diffusion: work.Diffusion = declared(default_factory=work.Diffusion, kind="group")


def inpaint(studio: StudioContext, request: InpaintRequest, folder: Any = None, task: Any = None) -> EditResult:
    from PIL import Image

    image = images.open_image(request.image, "The image to inpaint")
    mask = images.open_mask(request.mask, image.size)
    masks.require_some(mask)
    grow_px = masks.check_amount("Mask grow", request.mask_grow, masks.MAX_GROW)
    feather_px = masks.check_amount("Mask feather", request.mask_feather, masks.MAX_FEATHER)
    denoise = images.denoise_of(request.denoise)
    notes: list[str] = []
    grown = masks.grow(mask, grow_px)
    diffusion = request.diffusion
    ready = work.prepare(studio, diffusion, denoise)
    seed, side, multiple = ready.seed, ready.side, ready.multiple
    settings: dict[str, Any] = {"mask_grow": grow_px, "mask_feather": feather_px, "denoise": denoise,
                                "only_masked_area": bool(request.only_masked_area)}

    if grown.all():  # nothing is kept: this is img2img, and the same run as Vary's
        size = work.fit_area(image.width, image.height, side, multiple)
        start = image.resize(size, Image.Resampling.LANCZOS) if size != image.size else image
        made = work.run(studio, diffusion.request("img2img", start, denoise, seed), task, progress.label("inpaint_all"))
        out = made.image if made.image.size == image.size else made.image.resize(image.size, Image.Resampling.LANCZOS)
        notes.append("The mask covers the whole picture: it was redrawn as img2img (the same as Vary at this denoise).")
        settings.update(work_size=f"{size[0]}x{size[1]}", region="all")
        result = EditResult(out, "inpaint", settings, seed=made.seed, steps_run=made.steps_run,
                            diffusion=made.parameters, notes=notes + list(made.notes))
        return result.save(folder)

    width, height = image.size
    for _ in range(8):  # grow until the mask reaches the model (a few rounds at most)
        alpha = masks.feather(grown, feather_px)
        box = masks.context_box(masks.bounding_box(alpha > 0), width, height) if request.only_masked_area \
            else (0, 0, width, height)
        box_w, box_h = box[2] - box[0], box[3] - box[1]
        work_w, work_h = work.fit_area(box_w, box_h, side, multiple)
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
    settings.update(mask_grow_used=grow_px, region=f"{box[0]},{box[1]},{box[2]},{box[3]}",
                    work_size=f"{work_w}x{work_h}")
    left, top, right, bottom = box
    crop = image.crop(box).resize((work_w, work_h), Image.Resampling.LANCZOS)
    repaint = masks.repainted_area(grown, feather_px)
    mask_crop = Image.fromarray((repaint[top:bottom, left:right] * 255).astype(np.uint8)).resize(
        (work_w, work_h), Image.Resampling.NEAREST)
    label = progress.label("inpaint_masked" if request.only_masked_area else "inpaint")
    made = work.run(studio, diffusion.request("inpaint", crop, denoise, seed, mask=mask_crop), task, label)
    painted = made.image.resize((box_w, box_h), Image.Resampling.LANCZOS)
    original = np.asarray(image)
    out = original.copy()
    out[top:bottom, left:right] = masks.compose(original[top:bottom, left:right], np.asarray(painted),
                                               alpha[top:bottom, left:right])
    where = "the masked area" if request.only_masked_area else "the whole picture"
    notes.insert(0, f"Repainted {where} at {work_w}×{work_h}, denoise {denoise:g}, {made.steps_run} step(s); "
                    "pixels outside the feathered mask are the original's.")
    result = EditResult(Image.fromarray(out), "inpaint", settings, seed=made.seed, steps_run=made.steps_run,
                        diffusion=made.parameters, notes=notes + list(made.notes))
    return result.save(folder)


def _workload(studio: StudioContext, request: InpaintRequest) -> Any:
    from studio.image import gpu_seconds

    return gpu_seconds.edit_load(studio, request.diffusion, images.from_editor(request.image)[0])


def _from_page(request: InpaintRequest) -> InpaintRequest:
    """The page's brush editor to a picture and a mask: the mask file when one was given, else the
    brush layers."""
    picture, layers = images.from_editor(request.image)
    if picture is None:
        return request
    mask = request.mask if request.mask is not None else images.mask_from_layers(picture.size, layers)
    return replace(request, image=picture, mask=mask)


TOOL = declare(
    "inpaint", InpaintRequest, inpaint, _workload, work.route, order=30, again=True, from_page=_from_page,
    labels={"inpaint": "inpainting", "inpaint_masked": "inpainting the masked area",
            "inpaint_all": "repainting everything"},
    summary="Repaint the part of `image` that `mask` marks (same size; white, or painted on a transparent "
            "layer, = repaint). mask_grow / mask_feather in pixels; only_masked_area: repaint a crop around the "
            "mask at the model's resolution. Pixels outside the feathered mask stay as they were. Returns the "
            "saved PNG.",
)
inpaint = TOOL.run  # noqa: F811 - the same function, which a cluster's replica may run (studio.replicated)
