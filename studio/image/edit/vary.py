"""Vary (Subtle) and Vary (Strong): img2img of the whole picture at a light or heavy denoise
(Fooocus's 0.5 and 0.85), on the Image tab's checkpoint.

The picture is redrawn at the checkpoint's own resolution (about side² pixels, same aspect
ratio: 1024² for SDXL), where the model draws best, and the result is brought back to the
input's size. The denoise decides how many of the steps run: ``int(steps × denoise)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from studio import progress
from studio.errors import BadInput
from studio.image.edit import images, work
from studio.image.edit.results import EditResult
from studio.replicated import replicated

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from studio.context import StudioContext

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
    image: Any
    strength: str = "subtle"  # subtle | strong
    denoise: float | None = None  # overrides the strength's number when given
    diffusion: work.Diffusion = field(default_factory=work.Diffusion)


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


@replicated("vary", work.route, folder="folder", task="task")
def vary(studio: StudioContext, request: VaryRequest, folder: Any = None, task: Any = None) -> EditResult:
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
