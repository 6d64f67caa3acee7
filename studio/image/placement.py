"""A generation's memory plan, chosen from the models it will use before any of them moves.

The checkpoint and the image-prompt models are looked at where they are (``where="any"``:
a model not loaded yet is loaded into RAM, nothing is moved to the device), their parts are
sized, and ``studio.models.plans.choose`` picks the cheapest plan that fits the cache's budget.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING

from studio.image import memory
from studio.image.image_prompts import apply as image_prompts
from studio.models import plans
from studio.models.cache import size_of

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    import torch
    from diffusers import DiffusionPipeline

    from studio.context import StudioContext
    from studio.image.families.base import ImageFamily
    from studio.image.loading import ImageModel
    from studio.image.request import ImageRequest


def task_modules(family: ImageFamily, base: DiffusionPipeline, task: str) -> dict[str, torch.nn.Module]:
    """The base pipeline's torch parts that the ``task`` pipeline takes."""
    from studio.image.families.base import _init_parameters

    accepted = _init_parameters(family.pipeline_class(task))
    return {name: m for name, m in memory.pipeline_modules(base).items() if name in accepted}


def choose(studio: StudioContext, model: ImageModel, request: ImageRequest, width: int, height: int, steps: int,
           guidance: bool) -> plans.MemoryPlan:
    """The plan for drawing one ``width``×``height`` image of ``request`` on the pinned ``model``."""
    family, base = model.family, model.pipeline
    entries = image_prompts.model_entries(family, request.image_prompts, request.task, steps)
    pipeline_task = "controlnet" if any(e.startswith("controlnet") for e in entries) else request.task
    modules = task_modules(family, base, pipeline_task)
    denoiser = next(name for name in memory.DENOISERS if name in modules)
    extra: dict[str, int] = {}
    controls = []
    with ExitStack() as stack:
        for entry in entries:
            spec = studio.spec(entry)
            value = stack.enter_context(studio.cache.use(spec, where="any"))
            if entry == "image_encoder":
                modules["image_encoder"] = value
            elif spec.kind == "ip_adapter":  # its layers join the UNet for the run
                extra[denoiser] = extra.get(denoiser, 0) + size_of(value)
            else:
                controls.append(value)
        if controls:
            import torch

            modules["controlnet"] = controls[0] if len(controls) == 1 else torch.nn.ModuleList(controls)
        allow_fp8 = bool(getattr(studio.settings, "fp8_storage", False)) and not getattr(model, "fp8_storage", False)
        footprint = memory.footprint(family, modules, width, height, guidance, extra, fp8_allowed=allow_fp8,
                                     measures=model.measures)
    cache = studio.cache
    return plans.choose(footprint, cache.budget_bytes, cache.offload_budget_bytes, allow_fp8=allow_fp8)
