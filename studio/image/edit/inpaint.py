"""Inpaint: repaint a brushed region with the Image tab's checkpoint, leave the rest alone.

1. The mask (white / painted = repaint) is checked (an empty one is refused); ``invert_mask``
   repaints everything else instead. It is grown by ``mask_grow`` pixels and feathered by
   ``mask_feather`` pixels (both apply to the part that is repainted).
2. **Only masked area** (the default): the box around the feathered mask plus context (half
   its size, at least 32 px) is cut out and scaled to the checkpoint's own resolution (about
   1024² for SDXL), so even a small mask is repainted with the model's full detail instead of
   a few blurry latent cells; **whole image**: the picture is scaled to that resolution.
3. A mask narrower than two latent cells (16 px) at that size would barely reach the model:
   it is grown until it is not, and the result says so. A mask covering everything is plain
   img2img (same seed, same steps: the same picture Vary gives at that denoise).
4. The inpaint pipeline of the checkpoint's family (an inpainting checkpoint's 9-channel UNet
   when picked, the base model's otherwise) redraws it at the denoise of the **mode**
   (Fooocus's three):
   - *Inpaint or Outpaint* (default): denoise 1, or your own;
   - *Improve Detail*: denoise 0.5, so the picture's content stays under the noise and is
     redrawn sharper (faces, hands, eyes): int(steps × 0.5) steps run;
   - *Modify Content*: no initial latent, the masked area starts from pure noise (denoise 1:
     diffusers' inpaint pipelines then ignore the picture's latent there), for adding objects
     or changing a background. The default mode at denoise 1 draws the same; it differs once
     its denoise is lowered, which Modify Content never does.
   An **inpaint prompt** says what to draw in the masked area: it goes in front of the shared
   prompt (or stands alone when that is empty), as Fooocus's additional prompt does.
5. The repainted part is scaled back and pasted through the feathered mask: every pixel
   outside it is the original's, byte for byte (studio.image.edit.repaint).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from studio import progress
from studio.errors import BadInput
from studio.image.edit import images, masks, repaint, work
from studio.image.edit.results import EditResult
from studio.tools import declare
from studio.tools.fields import declared

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from pathlib import Path

    from studio.context import StudioContext
    from studio.image.gpu_seconds import Workload
    from studio.progress import Task

DEFAULT_GROW = 8
DEFAULT_FEATHER = 8
DEFAULT_DENOISE = 1.0


@dataclass(frozen=True)
class InpaintMode:
    name: str
    denoise: float  # the mode's denoise, when none is given
    initial_latent: bool  # False: the masked area starts from pure noise (denoise 1, nothing else)
    words: str  # what the result's notes call it


MODES = {mode.name: mode for mode in (
    InpaintMode("default", DEFAULT_DENOISE, True, "Inpaint or Outpaint"),
    InpaintMode("detail", 0.5, True, "Improve Detail"),
    InpaintMode("modify", 1.0, False, "Modify Content"),
)}
# Fooocus's own names, as its presets and scripts spell them.
MODE_ALIASES = {"inpaint or outpaint (default)": "default", "inpaint or outpaint": "default",
                "improve detail (face, hand, eyes, etc.)": "detail", "improve detail": "detail",
                "modify content (add objects, change background, etc.)": "modify", "modify content": "modify"}


@dataclass(frozen=True)
class InpaintRequest:
    # On the page the picture is a brush editor: its brush layers make the mask when no mask file
    # is given (studio.image.edit.images.from_editor).
    image: Any = declared(kind="picture", label="edit.editor", hint="editor", doc="the picture to repaint")
    mask: Any = declared(kind="mask", label="edit.mask_file", optional=True,
                         doc="same size; white (or painted on a transparent layer) = repaint")
    mode: str = declared("default", choices=tuple(MODES), choice_labels="edit.inpaint_mode", aliases=MODE_ALIASES,
                         label="edit.inpaint_mode", info="edit.inpaint_mode_info", hint="radio",
                         doc="'default' (denoise 1 or yours), 'detail' (Improve Detail: denoise 0.5, keeps the "
                             "content) or 'modify' (Modify Content: the masked area starts from noise)")
    inpaint_prompt: str = declared("", label="edit.inpaint_prompt", placeholder="edit.inpaint_prompt_placeholder",
                                   doc="what to draw in the masked area; goes in front of the prompt")
    invert_mask: bool = declared(False, label="edit.invert_mask", info="edit.invert_mask_info",
                                 doc="repaint everything except the mask")
    mask_grow: int = declared(DEFAULT_GROW, low=0, high=masks.MAX_GROW, label="edit.mask_grow", unit="pixels")
    mask_feather: int = declared(DEFAULT_FEATHER, low=0, high=masks.MAX_FEATHER, label="edit.mask_feather",
                                 unit="pixels")
    only_masked_area: bool = declared(True, label="edit.only_masked", info="edit.only_masked_info",
                                      doc="repaint a crop around the mask at the model's resolution")
    denoise: float | None = declared(None, low=images.DENOISE_RANGE[0], high=images.DENOISE_RANGE[1], step=0.01,
                                     optional=True, label="edit.inpaint_denoise", info="edit.inpaint_denoise_info",
                                     hint="number", doc="empty = the mode's (1; Improve Detail 0.5)")
    diffusion: work.Diffusion = declared(default_factory=work.Diffusion, kind="group")


def mode_of(name: Any) -> InpaintMode:
    key = str(name or "default").strip()
    key = MODE_ALIASES.get(key.lower(), key.lower())
    if key not in MODES:
        raise BadInput(f"Inpaint mode {str(name)[:40]!r} is unknown: pick default, detail or modify.")
    return MODES[key]


def denoise_for(mode: InpaintMode, given: Any) -> float:
    """The denoise ``mode`` runs at: the one given, else the mode's. Modify Content starts from
    noise, which is denoise 1 and nothing else."""
    if given in (None, "", 0):
        return images.denoise_of(mode.denoise)
    denoise = images.denoise_of(given)
    if not mode.initial_latent and denoise != 1.0:
        raise BadInput(f"Modify Content starts the masked area from noise, which is denoise 1, not {denoise:g}: "
                       "leave Denoise empty, or pick Improve Detail or the default mode to keep some of the picture.")
    return denoise


def with_inpaint_prompt(diffusion: work.Diffusion, inpaint_prompt: str) -> work.Diffusion:
    """The shared settings with the inpaint prompt in front of the prompt (or in its place when
    that is empty), on a line of its own, as Fooocus's additional prompt goes."""
    words = str(inpaint_prompt or "").strip()
    if not words:
        return diffusion
    prompt = str(diffusion.prompt or "").strip()
    return replace(diffusion, prompt=f"{words}\n{prompt}" if prompt else words)


def inpaint(studio: StudioContext, request: InpaintRequest, folder: Path | None = None,
            task: Task | None = None) -> EditResult:
    from PIL import Image

    image = images.open_image(request.image, "The image to inpaint")
    mask = images.open_mask(request.mask, image.size)
    masks.require_some(mask)
    if request.invert_mask:
        mask = ~mask
        if not mask.any():
            raise BadInput("The mask covers the whole picture, so inverted it repaints nothing: brush less of it, "
                           "or turn Invert mask off.")
    grow_px = masks.check_amount("Mask grow", request.mask_grow, masks.MAX_GROW)
    feather_px = masks.check_amount("Mask feather", request.mask_feather, masks.MAX_FEATHER)
    mode = mode_of(request.mode)
    denoise = denoise_for(mode, request.denoise)
    notes: list[str] = []
    grown = masks.grow(mask, grow_px)
    diffusion = with_inpaint_prompt(request.diffusion, request.inpaint_prompt)
    ready = work.prepare(studio, diffusion, denoise, task="inpaint")
    seed, side, multiple = ready.seed, ready.side, ready.multiple
    settings: dict[str, Any] = {"mode": mode.name, "inpaint_prompt": str(request.inpaint_prompt or "").strip(),
                                "invert_mask": bool(request.invert_mask), "mask_grow": grow_px,
                                "mask_feather": feather_px, "denoise": denoise,
                                "only_masked_area": bool(request.only_masked_area)}

    if grown.all():  # nothing is kept: this is img2img, and the same run as Vary's
        size = work.fit_area(image.width, image.height, side, multiple)
        start = image.resize(size, Image.Resampling.LANCZOS) if size != image.size else image
        steering = replace(diffusion, image_prompts=ready.image_prompts)
        made = work.run(studio, steering.request("img2img", start, denoise, seed), task, progress.label("inpaint_all"))
        out = made.image if made.image.size == image.size else made.image.resize(image.size, Image.Resampling.LANCZOS)
        notes.append("The mask covers the whole picture: it was redrawn as img2img (the same as Vary at this denoise).")
        settings.update(work_size=f"{size[0]}x{size[1]}", region="all")
        result = EditResult(out, "inpaint", settings, seed=made.seed, steps_run=made.steps_run,
                            diffusion=made.parameters, notes=notes + list(made.notes))
        return result.save(folder)

    label = progress.label("inpaint_masked" if request.only_masked_area else "inpaint")
    done = repaint.repaint(studio, image, grown, grow_px, feather_px, bool(request.only_masked_area), denoise,
                           diffusion, ready, task, label)
    settings.update(done.settings())
    work_w, work_h = done.work_size
    where = "the masked area" if request.only_masked_area else "the whole picture"
    inverted = " (the mask inverted)" if request.invert_mask else ""
    notes.append(f"{mode.words}: repainted {where}{inverted} at {work_w}×{work_h}, denoise {denoise:g}, "
                 f"{done.made.steps_run} step(s); pixels outside the feathered mask are the original's.")
    result = EditResult(done.image, "inpaint", settings, seed=done.made.seed, steps_run=done.made.steps_run,
                        diffusion=done.made.parameters, notes=notes + done.notes + list(done.made.notes))
    return result.save(folder)


def _workload(studio: StudioContext, request: InpaintRequest) -> Workload:
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
            "layer, = repaint; invert_mask: everything else). mode: 'default', 'detail' (Improve Detail, denoise "
            "0.5) or 'modify' (Modify Content, from noise); inpaint_prompt goes in front of the prompt. "
            "mask_grow / mask_feather in pixels; only_masked_area: repaint a crop around the mask at the model's "
            "resolution. Pixels outside the feathered mask stay as they were. Returns the saved PNG.",
)
inpaint = TOOL.run  # noqa: F811 - the same function, which a cluster's replica may run (studio.replicated)
