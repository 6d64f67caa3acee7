"""The diffusion part of every edit: an img2img or inpaint run of the Image tab's own
``generate_images`` on its checkpoint (the same cache entry, so one UNet serves all tools),
with its progress relabelled for the edit ("tile 2 of 4 · step 3 / 8")."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio.errors import BadInput
from studio.image import checkpoints
from studio.image.generate import generate_images, resolve
from studio.image.request import MAX_SEED, MAX_STEPS, ImageRequest, ImageResult, checked, resolve_seed
from studio.replicated import model_key
from studio.tools.fields import declared

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from PIL import Image

    from studio.context import StudioContext
    from studio.image.loading import ImageModel
    from studio.progress import Label, Task
    from studio.settings import Settings

# Families whose img2img / inpaint pipelines keep at least one step at any denoise above 0:
# diffusers' flow-matching Z-Image pipelines start at int(steps - steps × denoise), where the
# UNet families' (SDXL, SD 1.5) run int(steps × denoise) steps, which is 0 below 1 / steps.


def _checkpoints(settings: Settings | None) -> list[str]:
    return checkpoints.offered(settings) if settings is not None else []


@dataclass(frozen=True)
class Diffusion:
    """The settings an edit passes on to the image model; empty values follow the family's
    defaults (the Speed preset for SDXL). The Edit tab shows the declared ones once, for every tool."""

    prompt: str = declared("", label="edit.prompt", placeholder="edit.prompt_placeholder", hint="lines:2",
                           doc="what to draw (optional)")
    negative_prompt: str = declared("", label="edit.negative", doc="what to avoid")
    checkpoint: str = declared("", choices=_checkpoints, custom=True, label="edit.checkpoint",
                               info="edit.checkpoint_info", hint="dropdown",
                               doc="'' = the Image tab's default, a Hub id, or a file in the checkpoints folder")
    seed: int = declared(-1, low=-1, high=MAX_SEED, label="edit.seed", hint="number", doc="-1 = random")
    steps: int | None = declared(None, low=0, high=MAX_STEPS, label="edit.steps", hint="number", optional=True,
                                 unit="steps", doc="empty or 0 = the model's default")
    # Image prompts steer the redraw as on the Image tab (Fooocus mixes them with vary, upscale and
    # inpaint): up to 4 slots of {image, type, weight, stop_at}. A list of slots is its own kind of
    # field ("image_prompts"): the page shows the Image tab's slot panel for it, the API takes the
    # slots with their uploads (tabs.tools); nothing else reads it but ``request``.
    image_prompts: tuple | None = declared(None, kind="image_prompts", optional=True,
                                           advanced=True, label="edit.image_prompts", info="edit.image_prompts_info",
                                           doc="up to 4 slots [{image, type: ImagePrompt | PyraCanny | CPDS | "
                                               "FaceSwap, weight, stop_at}] steering the redraw (SDXL, SD 1.5)")
    cfg: float | None = None
    scheduler: str | None = None
    performance: str = "Speed"

    def request(self, task: str, image: Image.Image | None, strength: float, seed: int,
                mask: Image.Image | None = None) -> ImageRequest:
        return ImageRequest(
            prompt=self.prompt, negative_prompt=self.negative_prompt, checkpoint=self.checkpoint, seed=seed,
            steps=self.steps or None, cfg=self.cfg, scheduler=self.scheduler or None, performance=self.performance,
            task=task, init_image=image, strength=strength, mask_image=mask, image_prompts=self.slots(),
        )

    def slots(self) -> tuple:
        """The image prompt slots as given (an empty text box on a page is none)."""
        value = self.image_prompts
        return () if value is None or (isinstance(value, str) and not value.strip()) else value

    def resolved_seed(self) -> int:
        return resolve_seed(self.seed)


def route(arguments: dict[str, Any]) -> str:
    """Which replica an edit goes to: one holding its checkpoint."""
    return model_key("image", arguments["request"].diffusion.checkpoint)


class Stage:
    """Stands in for the user's Task inside one part of an edit: forwards steps (Cancel
    still stops within one) under the edit's own label; keeps deliveries for the edit."""

    def __init__(self, task: Task | None, label: Label):
        self.task = task
        self.label = label

    def step(self, step: int, total: int, label: Label | str = "", preview: Image.Image | None = None) -> None:
        if self.task is not None:
            self.task.step(step, total, self.label, preview)

    def check_cancelled(self) -> None:
        if self.task is not None:
            self.task.check_cancelled()

    def deliver(self, item: Any) -> None:
        pass


def steps_run(steps: int, denoise: float, family: str = "") -> int:
    """How many of ``steps`` an img2img / inpaint run at ``denoise`` really runs on ``family``
    (by name; the family says how it rounds)."""
    from studio.image.families import FAMILIES

    chosen = FAMILIES.get(family)
    return chosen.steps_run(steps, denoise) if chosen else min(steps, int(steps * denoise))


def check_denoise_steps(steps: int, denoise: float, family: str = "", name: str = "Denoise") -> int:
    """The steps a run at ``denoise`` runs, or a sentence naming the lowest denoise that runs
    one step of ``steps`` (int(steps × denoise) = 0 would give the pipeline nothing to do)."""
    ran = steps_run(steps, denoise, family)
    if ran >= 1:
        return ran
    lowest = math.ceil(100 / steps) / 100
    while steps_run(steps, lowest, family) < 1 and lowest < 1:
        lowest = round(lowest + 0.01, 2)
    raise BadInput(
        f"{name} {denoise:g} with {steps} steps runs no step at all (int({steps} × {denoise:g}) = 0). "
        f"Use a {name.lower()} of at least {lowest:g} for {steps} steps, or more steps."
    )


@dataclass(frozen=True)
class EditPlan:
    """The diffusion part of an edit, checked before any work: the seed to use, the checkpoint's
    resolution and size multiple, its steps and how many of them the denoise runs."""

    seed: int
    side: int
    multiple: int
    steps: int
    steps_run: int
    family: str
    image_prompts: tuple = ()  # the slots, checked (pictures read): ``Diffusion.image_prompts`` for the run


def prepare(studio: StudioContext, diffusion: Diffusion, denoise: float, name: str = "Denoise",
            task: str = "img2img") -> EditPlan:
    """Check everything the diffusion part will need (prompts, steps, CFG, seed, checkpoint, that
    the denoise runs at least one step, and that the family's ``task`` pipeline takes the image
    prompts) before an edit does any long work; a sentence for the first thing wrong. The
    checkpoint is loaded (a cache entry the run then finds)."""
    from studio.image.image_prompts import apply as image_prompts

    request = checked(diffusion.request("txt2img", None, denoise, seed=-1))
    seed = diffusion.resolved_seed()
    with studio.cache.use(checkpoints.spec(studio, diffusion.checkpoint), where="any") as model:  # a look: nothing moves
        family = model.family
        side, multiple = _side(model)
    steps = resolve(studio, request, family).steps  # the generation's own rule
    ran = check_denoise_steps(steps, denoise, family.name, name)
    image_prompts.model_entries(family, request.image_prompts, task, ran)  # refused here, not after the long work
    return EditPlan(seed=seed, side=side, multiple=multiple, steps=steps, steps_run=ran, family=family.name,
                    image_prompts=request.image_prompts)


def run(studio: StudioContext, request: ImageRequest, task: Task | None, label: Label) -> ImageResult:
    """One image, not saved (the edit saves its own composed result)."""
    return generate_images(studio, request, None, Stage(task, label))[0]


def model_side(studio: StudioContext, checkpoint: str = "") -> tuple[int, int]:
    """(side, multiple): the side the checkpoint was trained at (SDXL 1024, SD 1.5 512; its
    tiny twin 256) from its UNet's sample size, and the multiple its sides must be."""
    with studio.cache.use(checkpoints.spec(studio, checkpoint), where="any") as model:
        return _side(model)


def _side(model: ImageModel) -> tuple[int, int]:
    family, base = model.family, model.pipeline
    side = family.defaults.width
    unet = getattr(base, "unet", None)
    sample = getattr(getattr(unet, "config", None), "sample_size", None)
    factor = getattr(base, "vae_scale_factor", None)
    if isinstance(sample, int) and isinstance(factor, int):
        side = sample * factor
    return side, family.defaults.size_multiple


def fit_area(width: int, height: int, side: int, multiple: int) -> tuple[int, int]:
    """The size with about ``side``² pixels and this aspect ratio, sides multiples of ``multiple``."""
    scale = (side * side / (width * height)) ** 0.5
    w = max(multiple, int(round(width * scale / multiple)) * multiple)
    h = max(multiple, int(round(height * scale / multiple)) * multiple)
    return w, h
