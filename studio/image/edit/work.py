"""The diffusion part of every edit: an img2img or inpaint run of the Image tab's own
``generate_images`` on its checkpoint (the same cache entry, so one UNet serves all tools),
with its progress relabelled for the edit ("tile 2 of 4 · step 3 / 8")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.image import checkpoints
from studio.image.generate import generate_images
from studio.image.request import ImageRequest, ImageResult, resolve_seed


@dataclass(frozen=True)
class Diffusion:
    """The settings an edit passes on to the image model; empty values follow the family's
    defaults (the Speed preset for SDXL)."""

    prompt: str = ""
    negative_prompt: str = ""
    checkpoint: str = ""  # "" = the Image tab's default checkpoint
    seed: int = -1
    steps: int | None = None
    cfg: float | None = None
    scheduler: str | None = None
    performance: str = "Speed"

    def request(self, task: str, image: Any, strength: float, seed: int, mask: Any = None) -> ImageRequest:
        return ImageRequest(
            prompt=self.prompt, negative_prompt=self.negative_prompt, checkpoint=self.checkpoint, seed=seed,
            steps=self.steps or None, cfg=self.cfg, scheduler=self.scheduler or None, performance=self.performance,
            task=task, init_image=image, strength=strength, mask_image=mask,
        )

    def resolved_seed(self) -> int:
        return resolve_seed(self.seed)


class Stage:
    """Stands in for the user's Task inside one part of an edit: forwards steps (Cancel
    still stops within one) under the edit's own label; keeps deliveries for the edit."""

    def __init__(self, task: Any, label: str):
        self.task = task
        self.label = label

    def step(self, step: int, total: int, label: str = "", preview: Any = None) -> None:
        if self.task is not None:
            self.task.step(step, total, self.label, preview)

    def check_cancelled(self) -> None:
        if self.task is not None:
            self.task.check_cancelled()

    def deliver(self, item: Any) -> None:
        pass


def run(studio: Any, request: ImageRequest, task: Any, label: str) -> ImageResult:
    """One image, not saved (the edit saves its own composed result)."""
    return generate_images(studio, request, None, Stage(task, label))[0]


def model_side(studio: Any, checkpoint: str = "") -> tuple[int, int]:
    """(side, multiple): the side the checkpoint was trained at (SDXL 1024, SD 1.5 512; its
    tiny twin 256) from its UNet's sample size, and the multiple its sides must be."""
    with studio.cache.use(checkpoints.spec(studio, checkpoint)) as model:
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
