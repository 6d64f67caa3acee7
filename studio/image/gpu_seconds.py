"""How long an image request holds a GPU, estimated before anything loads (a ZeroGPU call
asks for it up front: ``studio.zero_gpu``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio import zero_gpu
from studio.image import checkpoints, presets
from studio.image.image_prompts import slots
from studio.image.request import ImageRequest, images_in

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from studio.context import StudioContext
    from studio.image.families import ImageFamily

SUPER_RESOLUTION_SECONDS_PER_MP = 1.0  # Real-ESRGAN x4 tiles, per output megapixel
MAX_EDIT_SIDE = 4096  # the largest result an edit makes (the upscale refine)


def _steps(family: ImageFamily | None, performance: str, steps: int | None) -> int:
    """The steps generation will run: the same rule (studio.image.presets.followed)."""
    try:
        return presets.followed(family, performance, steps).steps
    except Exception:  # noqa: BLE001 - a bad preset name is refused by the request itself
        return presets.followed(family, presets.DEFAULT_PERFORMANCE, steps).steps


@dataclass(frozen=True)
class Workload:
    """What a request draws, known before anything loads: the GPU estimate and a class's limits
    (studio.class_rules) both read it."""

    images: int
    width: int
    height: int
    steps: int  # diffusion steps per image (0: no redraw, super-resolution only)
    step_seconds_per_mp: float | None  # the family's speed (None: not known before loading)
    controlnets: int = 0
    super_resolution: bool = False


def generation_load(studio: StudioContext, request: ImageRequest) -> Workload:
    family = checkpoints.family_hint(studio, request.checkpoint)
    if request.width and request.height:
        width, height = int(request.width), int(request.height)
    else:
        width, height = presets.parse_aspect(request.aspect_ratio)
    controlnets = sum(1 for slot in request.image_prompts
                      if slots.type_name(_field(slot, "type")) in slots.CONTROLNET_TYPES)
    try:
        count = images_in(request)  # seeds × the prompt's [[array]] items
    except Exception:  # noqa: BLE001 - a bad request is refused by the request itself
        count = max(1, int(request.image_number or 1))
    return Workload(count, width, height,
                    _steps(family, request.performance, request.steps), getattr(family, "step_seconds_per_mp", None),
                    controlnets)


def edit_load(studio: StudioContext, diffusion: Any, image: Any, scale: float = 1.0, redraw: bool = True) -> Workload:
    """One edit of ``image`` (a path, upload, picture or (width, height)) at ``scale`` × its size,
    redrawn (unless not ``redraw``) with ``diffusion``'s settings (studio.image.edit.work.Diffusion)."""
    width, height = _picture_size(image)
    width, height = (min(MAX_EDIT_SIDE, int(side * scale)) for side in (width, height))
    family = checkpoints.family_hint(studio, getattr(diffusion, "checkpoint", ""))
    steps = _steps(family, getattr(diffusion, "performance", presets.DEFAULT_PERFORMANCE), getattr(diffusion, "steps", None))
    return Workload(1, width, height, steps if redraw else 0, getattr(family, "step_seconds_per_mp", None),
                    _controlnets(diffusion.slots() if hasattr(diffusion, "slots") else ()) if redraw else 0,
                    super_resolution=scale > 1)


def _controlnets(image_prompts: Any) -> int:
    """How many of the slots run a ControlNet (a slot the request will refuse counts as none)."""
    count = 0
    for slot in image_prompts if isinstance(image_prompts, (list, tuple)) else ():
        try:
            count += slots.type_name(_field(slot, "type")) in slots.CONTROLNET_TYPES
        except Exception:  # noqa: BLE001 - a bad type is refused by the request itself
            continue
    return count


def outpaint_load(studio: StudioContext, diffusion: Any, image: Any, sides: tuple[float, float, float, float],
                  unit: str) -> Workload:
    """Extending ``image`` by (left, right, top, bottom) in "px" or "%"."""
    width, height = _picture_size(image)
    left, right, top, bottom = (float(side or 0) for side in sides)
    if unit == "%":
        grown = (width * (1 + (left + right) / 100), height * (1 + (top + bottom) / 100))
    else:
        grown = (width + left + right, height + top + bottom)
    return edit_load(studio, diffusion, grown, 1.0)


def seconds_of(load: Workload) -> float:
    """Estimated GPU seconds of ``load``."""
    work = zero_gpu.image_work(load.step_seconds_per_mp, load.steps, load.images, load.width, load.height,
                               load.controlnets) if load.steps else 0.0
    if load.super_resolution:
        work += SUPER_RESOLUTION_SECONDS_PER_MP * load.width * load.height / 1e6
    return work


def generation_work(studio: StudioContext, request: ImageRequest) -> float:
    """GPU seconds of ``request`` on the Image tab."""
    return seconds_of(generation_load(studio, request))


def edit_work(studio: StudioContext, diffusion: Any, image: Any, scale: float = 1.0, redraw: bool = True) -> float:
    """GPU seconds of one edit (see ``edit_load``); an upscale also runs the super-resolution model."""
    return seconds_of(edit_load(studio, diffusion, image, scale, redraw))


def outpaint_work(studio: StudioContext, diffusion: Any, image: Any, sides: tuple[float, float, float, float],
                  unit: str) -> float:
    """GPU seconds of extending ``image`` by (left, right, top, bottom) in "px" or "%"."""
    return seconds_of(outpaint_load(studio, diffusion, image, sides, unit))


def _field(slot: Any, name: str) -> Any:
    return slot.get(name) if isinstance(slot, dict) else getattr(slot, name, None)


def _picture_size(image: Any) -> tuple[int, int]:
    """The size from the file's header (nothing decoded), or the default square."""
    from PIL import Image

    if isinstance(image, tuple):
        return int(image[0]), int(image[1])
    if hasattr(image, "size") and not isinstance(image, (str, dict)):
        return tuple(image.size)  # type: ignore[return-value]
    path = image.get("path") if isinstance(image, dict) else getattr(image, "path", image)
    with Image.open(path) as opened:
        return opened.size
