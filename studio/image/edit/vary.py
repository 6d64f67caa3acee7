"""Vary (Subtle) and Vary (Strong): img2img of the whole picture at a light or heavy denoise
(Fooocus's 0.5 and 0.85), on the Image tab's checkpoint.

The picture is redrawn at the checkpoint's own resolution (about side² pixels, same aspect
ratio: 1024² for SDXL), where the model draws best, and the result is brought back to the
input's size. The denoise decides how many of the steps run: ``int(steps × denoise)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio import progress
from studio.errors import BadInput
from studio.image.edit import images, work
from studio.image.edit.results import EditResult
from studio.tools import declare
from studio.tools.fields import declared

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from pathlib import Path

    from studio.context import StudioContext
    from studio.image.gpu_seconds import Workload
    from studio.progress import Task

STRENGTHS = {"Vary (Subtle)": 0.5, "Vary (Strong)": 0.85}
_ALIASES = {"subtle": "Vary (Subtle)", "strong": "Vary (Strong)"}


def strength_of(name: str) -> float:
    key = str(name or "").strip()
    key = _ALIASES.get(key.lower(), key)
    if key not in STRENGTHS:
        raise BadInput(f"Vary strength {str(name)[:40]!r} is unknown: pick subtle or strong (or give a denoise).")
    return STRENGTHS[key]


@dataclass(frozen=True)
class VaryRequest:
    image: Any = declared(kind="picture", label="edit.image", doc="the picture to vary")
    strength: str = declared("subtle", choices=("subtle", "strong"), choice_labels="edit.strength",
                             aliases={"vary (subtle)": "subtle", "vary (strong)": "strong"}, label="edit.strength",
                             hint="radio", doc="subtle (denoise 0.5) or strong (0.85)")
    denoise: float | None = declared(None, low=images.DENOISE_RANGE[0], high=images.DENOISE_RANGE[1], optional=True,
                                     label="edit.vary_denoise", info="edit.vary_denoise_info", hint="number",
                                     advanced=True, doc="your own denoise; empty or 0 = by strength")
    diffusion: work.Diffusion = declared(default_factory=work.Diffusion, kind="group")


def denoise_and_label(request: VaryRequest) -> tuple[float, str]:
    """The denoise to use and the strength to record, both checked before any work: a named
    strength's number, or the denoise given (then the strength is only a label, recorded as
    "custom" unless it names that very number; an unknown one is no reason to refuse)."""
    if request.denoise in (None, "", 0):
        return images.denoise_of(strength_of(request.strength)), str(request.strength)
    denoise = images.denoise_of(request.denoise)
    key = str(request.strength or "").strip()
    named = STRENGTHS.get(_ALIASES.get(key.lower(), key))
    return denoise, str(request.strength) if named == denoise else "custom"


def vary(studio: StudioContext, request: VaryRequest, folder: Path | None = None,
         task: Task | None = None) -> EditResult:
    from PIL import Image

    image = images.open_image(request.image, "The image to vary")
    denoise, strength = denoise_and_label(request)
    ready = work.prepare(studio, request.diffusion, denoise)
    size = work.fit_area(image.width, image.height, ready.side, ready.multiple)
    start = image.resize(size, Image.Resampling.LANCZOS) if size != image.size else image
    label = progress.label("vary", denoise=f"{denoise:g}")
    made = work.run(studio, request.diffusion.request("img2img", start, denoise, ready.seed), task, label)
    out = made.image if made.image.size == image.size else made.image.resize(image.size, Image.Resampling.LANCZOS)
    settings = {"denoise": denoise, "strength": strength, "work_size": f"{size[0]}x{size[1]}"}
    notes = [f"Redrawn at {size[0]}×{size[1]} (the model's resolution) with denoise {denoise:g}: "
             f"{made.steps_run} step(s) ran."] + list(made.notes)
    result = EditResult(out, "vary", settings, seed=made.seed, steps_run=made.steps_run, diffusion=made.parameters,
                        notes=notes)
    return result.save(folder)


def _workload(studio: StudioContext, request: VaryRequest) -> Workload:
    from studio.image import gpu_seconds

    return gpu_seconds.edit_load(studio, request.diffusion, request.image)


TOOL = declare(
    "vary", VaryRequest, vary, _workload, work.route, order=20, again=True,
    labels={"vary": "varying at denoise {denoise}"},
    summary="A variation of `image`: redrawn whole at strength 'subtle' (denoise 0.5) or 'strong' (0.85), or "
            "your own denoise; only int(steps × denoise) steps run. Returns the saved PNG.",
)
vary = TOOL.run  # noqa: F811 - the same function, which a cluster's replica may run (studio.replicated)
