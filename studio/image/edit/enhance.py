"""Enhance (Fooocus's, an "ADetailer"): find regions of a picture and repaint each one at the
model's resolution with its own prompt, to repair faces, hands or anything named in words.

Up to three regions, each a search and its settings (Fooocus shows three enhancement tabs):

- **find**: "face" (or 臉) uses the studio's face detector (studio.faces); any other words go to
  Grounding DINO, whose boxes SAM cuts out (studio.image.edit.regions). Empty: the region is off.
- **prompt**: what to draw there, in place of the shared prompt (empty: the shared prompt).
- **denoise** (0.5 by default, Improve Detail's: the content stays, redrawn sharper) and
  **mask grow** (pixels).

Regions are searched in order, each on the picture the previous ones left; every find is
repainted alone, "only masked area" (a crop around it scaled to the checkpoint's resolution,
studio.image.edit.repaint), and pasted back through a feathered mask: pixels outside every
find's feathered mask are the original's. **Upscale** (Fast 2×, super-resolution only) runs
before the first region (more pixels for small faces) or after the last. A search that finds
nothing is said in the notes; Cancel stops between regions and within one's steps.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from studio import progress
from studio.errors import BadInput
from studio.fields import number_between
from studio.image.edit import images, masks, regions, repaint, segment, upscale, work
from studio.image.edit.results import EditResult
from studio.tools import declare
from studio.tools.fields import declared

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from pathlib import Path

    from PIL import Image

    from studio.context import StudioContext
    from studio.image.gpu_seconds import Workload
    from studio.image.request import ImageResult
    from studio.progress import Task

REGIONS = 3  # Fooocus's default number of enhancement tabs
DEFAULT_DENOISE = 0.5
DEFAULT_GROW = 8
DEFAULT_FEATHER = 8
DEFAULT_MOST = 4  # finds of one search repainted (best first)
MAX_MOST = 8
UPSCALE_WHEN = ("none", "before", "after")
UPSCALE_FACTOR = 2.0  # Upscale (Fast 2×): super-resolution only


def _find(number: int, default: str) -> Any:
    return declared(default, section=f"edit.region_{number}", label=f"edit.region_{number}_find", info="edit.region_find_info",
                    placeholder="edit.region_find_placeholder",
                    doc=f"region {number}: 'face', or what to find in words (e.g. hand); empty = off")


def _prompt(number: int) -> Any:
    return declared("", section=f"edit.region_{number}", label=f"edit.region_{number}_prompt", doc=f"region {number}: its prompt (empty = the prompt)")


def _denoise(number: int) -> Any:
    return declared(DEFAULT_DENOISE, low=images.DENOISE_RANGE[0], high=images.DENOISE_RANGE[1], step=0.01,
                    section=f"edit.region_{number}", label=f"edit.region_{number}_denoise", doc=f"region {number}: how much is redrawn")


def _grow(number: int) -> Any:
    return declared(DEFAULT_GROW, low=0, high=masks.MAX_GROW, section=f"edit.region_{number}",
                    label=f"edit.region_{number}_grow", unit="pixels",
                    doc=f"region {number}: mask grow")


@dataclass(frozen=True)
class EnhanceRequest:
    image: Any = declared(kind="picture", label="edit.image", doc="the picture to enhance")
    # Three numbered regions (as Fooocus's three tabs): plain fields, so the page and the API need
    # no kind of field beyond text and numbers.
    region_1_find: str = _find(1, "face")
    region_1_prompt: str = _prompt(1)
    region_1_denoise: float = _denoise(1)
    region_1_grow: int = _grow(1)
    region_2_find: str = _find(2, "")
    region_2_prompt: str = _prompt(2)
    region_2_denoise: float = _denoise(2)
    region_2_grow: int = _grow(2)
    region_3_find: str = _find(3, "")
    region_3_prompt: str = _prompt(3)
    region_3_denoise: float = _denoise(3)
    region_3_grow: int = _grow(3)
    upscale: str = declared("none", choices=UPSCALE_WHEN, choice_labels="edit.enhance_upscale",
                            label="edit.enhance_upscale", info="edit.enhance_upscale_info", hint="radio",
                            doc="'before' the first region or 'after' the last (2×, super-resolution), or 'none'")
    mask_feather: int = declared(DEFAULT_FEATHER, low=0, high=masks.MAX_FEATHER, label="edit.mask_feather",
                                 unit="pixels", advanced=True)
    max_per_region: int = declared(DEFAULT_MOST, low=1, high=MAX_MOST, label="edit.max_per_region",
                                   info="edit.max_per_region_info", advanced=True,
                                   doc="the most finds of one region repainted, best first")
    box_threshold: float = declared(segment.DEFAULT_BOX_THRESHOLD, low=0.0, high=1.0, step=0.01,
                                    label="edit.box_threshold", info="edit.box_threshold_info", advanced=True,
                                    doc="Grounding DINO: the least score a box needs (words, not faces)")
    text_threshold: float = declared(segment.DEFAULT_TEXT_THRESHOLD, low=0.0, high=1.0, step=0.01,
                                     label="edit.text_threshold", advanced=True,
                                     doc="Grounding DINO: the least score a word needs to name a box")
    diffusion: work.Diffusion = declared(default_factory=work.Diffusion, kind="group")


@dataclass(frozen=True)
class RegionSpec:
    number: int
    find: str
    prompt: str
    denoise: float
    grow: int

    def record(self) -> dict[str, Any]:
        return {"region": self.number, "find": self.find, "prompt": self.prompt, "denoise": self.denoise,
                "mask_grow": self.grow}


def specs_of(request: EnhanceRequest) -> list[RegionSpec]:
    """The regions that are on (something to find), checked, in order."""
    specs = []
    for number in range(1, REGIONS + 1):
        find = str(getattr(request, f"region_{number}_find") or "").strip()
        if not find:
            continue
        denoise = images.denoise_of(getattr(request, f"region_{number}_denoise"), f"Region {number} denoise")
        grow = masks.check_amount(f"Region {number} mask grow", getattr(request, f"region_{number}_grow"),
                                  masks.MAX_GROW)
        prompt = str(getattr(request, f"region_{number}_prompt") or "").strip()
        specs.append(RegionSpec(number, find[:200], prompt, denoise, grow))
    if not specs:
        raise BadInput("Nothing to enhance: say what to find in at least one region (e.g. face, or hand).")
    return specs


def enhance(studio: StudioContext, request: EnhanceRequest, folder: Path | None = None,
            task: Task | None = None) -> EditResult:
    image = images.open_image(request.image, "The image to enhance")
    specs = specs_of(request)
    feather = masks.check_amount("Mask feather", request.mask_feather, masks.MAX_FEATHER)
    when = str(request.upscale or "none")
    if when not in UPSCALE_WHEN:
        raise BadInput(f"Upscale must be none, before or after, not {when[:20]!r}.")
    most = int(number_between("Most finds per region", request.max_per_region, 1, MAX_MOST))
    box_threshold = number_between("Box threshold", request.box_threshold, 0.0, 1.0)
    text_threshold = number_between("Text threshold", request.text_threshold, 0.0, 1.0)
    # Everything the regions need is checked before the first long step (the upscale, a find).
    lightest = min(specs, key=lambda spec: spec.denoise)
    ready = work.prepare(studio, request.diffusion, lightest.denoise, f"Region {lightest.number} denoise", "inpaint")
    for spec in specs:
        work.check_denoise_steps(ready.steps, spec.denoise, ready.family, f"Region {spec.number} denoise")
    if when == "before":
        images.check_size(*upscale.output_size(*image.size, UPSCALE_FACTOR), "The upscaled picture")
    notes: list[str] = []
    settings: dict[str, Any] = {"upscale": when, "mask_feather": feather, "max_per_region": most,
                                "box_threshold": box_threshold, "text_threshold": text_threshold, "regions": []}
    if when == "before":
        image = _upscaled(studio, image, task, settings, notes)

    steps_run, last = 0, None
    for spec in specs:
        if task is not None:  # Cancel between regions, and the search shown as a step
            task.step(0, 1, progress.label("enhance_find", what=spec.find))
        found, total, found_notes = regions.find(studio, image, spec.find, most, box_threshold, text_threshold)
        notes += found_notes
        record = {**spec.record(), "found": total, "enhanced": []}
        settings["regions"].append(record)
        diffusion = replace(request.diffusion, prompt=spec.prompt) if spec.prompt else request.diffusion
        for index, region in enumerate(found, 1):
            label = progress.label("enhance", what=spec.find, index=index, count=len(found))
            done = repaint.repaint(studio, image, masks.grow(region.mask, spec.grow), spec.grow, feather, True,
                                   spec.denoise, diffusion, ready, task, label)
            image, last = done.image, done.made
            steps_run += done.made.steps_run
            record["enhanced"].append({**region.record(), **done.settings(), "changed": list(done.changed_box),
                                       "steps_run": done.made.steps_run})
            notes += done.notes
        if found:
            notes.append(f"Region {spec.number} ({spec.find!r}): {len(found)} repainted at denoise {spec.denoise:g}"
                         f"{' with its own prompt' if spec.prompt else ''}.")

    if when == "after":
        image = _upscaled(studio, image, task, settings, notes)
    if last is None:
        notes.append("Nothing was found to enhance: the picture is as it was"
                     + (" (upscaled)." if when != "none" else "."))
    result = EditResult(image, "enhance", settings, seed=ready.seed if last is not None else None,
                        steps_run=steps_run, diffusion=last.parameters if last is not None else None,
                        notes=notes + (list(last.notes) if last is not None else []))
    return result.save(folder)


def _upscaled(studio: StudioContext, image: Image.Image, task: Task | None, settings: dict[str, Any],
              notes: list[str]) -> Image.Image:
    big, info = upscale.super_resolve(studio, image, UPSCALE_FACTOR, task=task)
    settings.update(upscaler=info["upscaler"], upscale_size=f"{big.width}x{big.height}")
    notes.append(f"Upscaled {image.width}×{image.height} → {big.width}×{big.height} with {info['upscaler']} "
                 f"({settings['upscale']} the regions).")
    return big


def regions_on(request: EnhanceRequest) -> int:
    """How many regions have something to find."""
    return sum(1 for number in range(1, REGIONS + 1) if str(getattr(request, f"region_{number}_find") or "").strip())


def _workload(studio: StudioContext, request: EnhanceRequest) -> Workload:
    """One redraw of about the model's size per region that is on (a face or two each, usually)."""
    from studio.image import gpu_seconds

    load = gpu_seconds.edit_load(studio, request.diffusion, request.image,
                                 UPSCALE_FACTOR if request.upscale in ("before", "after") else 1.0)
    return replace(load, images=max(1, regions_on(request)))


TOOL = declare(
    "enhance", EnhanceRequest, enhance, _workload, work.route, order=50, again=True,
    labels={"enhance": "enhancing {what} ({index} of {count})", "enhance_find": "looking for {what}"},
    summary="Find up to three regions of `image` and repaint each at the model's resolution: region_N_find is "
            "'face' (the face detector) or words (Grounding DINO + SAM), with its own prompt, denoise and mask grow; "
            "upscale 'before' or 'after' (2×). Pixels outside the found regions' feathered masks stay as they were; "
            "a region that finds nothing is said in the notes. Returns the saved PNG.",
)
enhance = TOOL.run  # noqa: F811 - the same function, which a cluster's replica may run (studio.replicated)
GENERATED = "each generated image"  # the Image tab's Enhance: the picture field, filled per result


def enhance_generated(studio: StudioContext, settings: EnhanceRequest, made: list[ImageResult],
                      folder: Path | None = None, task: Task | None = None) -> list[EditResult]:
    """Fooocus's Enhance checkbox: each image just generated (``made``, ImageResults), enhanced
    with its own prompt, negative prompt, checkpoint and seed and the Enhance section's
    ``settings``; each result delivered as it is saved, beside the original."""
    enhanced = []
    for result in made:
        request = result.parameters.get("request", {})
        diffusion = work.Diffusion(prompt=result.prompt, negative_prompt=result.negative_prompt,
                                   checkpoint=request.get("checkpoint") or "", seed=result.seed,
                                   steps=request.get("steps"), cfg=request.get("cfg"),
                                   scheduler=request.get("scheduler"),
                                   performance=request.get("performance") or work.Diffusion.performance)
        done = enhance(studio, replace(settings, image=result.image, diffusion=diffusion), folder, task)
        if task is not None:
            task.deliver(done)
        enhanced.append(done)
    return enhanced
