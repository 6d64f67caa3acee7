"""Hugging Face ZeroGPU Spaces: a GPU slice lent for each call that asks for one.

Each ``spaces.GPU`` call states how long it needs; the Space's visitors are queued by it and
a call that overruns is cut off. So a call asks for what its request needs: diffusion steps ×
images × megapixels at the family's speed on a slice, with a margin, never more than ZeroGPU
grants. The figures are estimates for half an H200 (the slice ZeroGPU lends, 70 GB) until a GPU
run of ``benchmarks/gpu.py`` measures them. No Gradio and no ``spaces`` import here: the tabs
wrap their functions (``tabs.gpu.for_zero_gpu``).
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any, Callable, Mapping

if TYPE_CHECKING:
    from studio.settings import Settings

MIN_SECONDS = 10
MAX_SECONDS = 300  # the longest call ZeroGPU grants (its staff's figure; not documented)
DEFAULT_SECONDS = 30  # light calls: a tokenizer image, an image-prompt preview, a face scan
MARGIN = 1.5  # a call cut off loses its work; one that asks too much only waits longer in the queue
CALL_SECONDS = 5.0  # each call: the worker forks and the packed weights move onto the slice
DECODE_SECONDS_PER_MP = 0.4  # VAE decode (SDXL's in fp32) of one megapixel
TEXT_SECONDS_PER_TOKEN = 0.05  # a small chat model, one token at a time
CONTROLNET_SHARE = 0.5  # each ControlNet runs about half a UNet per step
# Diffusion seconds per step per megapixel on a slice, CFG on where the family uses it: each
# family states its own (ImageFamily.step_seconds_per_mp).
UNKNOWN_FAMILY_STEP_SECONDS = 0.45  # above every known family: a call cut off is worse than a long wait


def active(env: Mapping[str, str] | None = None) -> bool:
    """On a ZeroGPU Space (the variable the Space sets, read as ``spaces`` reads it)."""
    value = (os.environ if env is None else env).get("SPACES_ZERO_GPU", "")
    return value.lower() in ("1", "t", "true")


def emulated(settings: Settings) -> bool:
    """``--zero-gpu-emulate``: GPU calls take ZeroGPU's fork-and-pickle path on this machine
    (``tabs.zero_gpu_twin``), whatever the device, so what breaks on a Space breaks here first."""
    return bool(getattr(settings, "zero_gpu_emulate", False)) and not active()


def forks(settings: Settings) -> bool:
    """Each GPU call runs in a forked worker, its arguments and results pickled: on a ZeroGPU
    Space, or under its twin. Models must then be loaded before the first call."""
    return active() or emulated(settings)


def slice_bytes() -> int:
    """The memory of the GPU slice a call gets. ``spaces`` reports the slice, not the whole card,
    as the device's total memory (and its free memory cannot be asked outside a call)."""
    import torch

    return int(torch.cuda.get_device_properties(0).total_memory)


def seconds(work: float) -> int:
    """What to ask ZeroGPU for, for ``work`` estimated seconds of GPU work."""
    return int(min(MAX_SECONDS, max(MIN_SECONDS, math.ceil(CALL_SECONDS + work * MARGIN))))


def image_work(step_seconds_per_mp: float | None, steps: float, images: int, width: int, height: int,
               controlnets: int = 0) -> float:
    """Estimated GPU seconds of ``images`` pictures of ``width``×``height`` in ``steps`` steps, at
    the family's seconds per step per megapixel (``ImageFamily.step_seconds_per_mp``; None when
    the family is not known before loading)."""
    megapixels = width * height / 1e6
    per_step = (step_seconds_per_mp or UNKNOWN_FAMILY_STEP_SECONDS) * megapixels
    per_step *= 1 + CONTROLNET_SHARE * controlnets
    return images * (steps * per_step + DECODE_SECONDS_PER_MP * megapixels)


def text_work(max_new_tokens: int) -> float:
    return max(1, int(max_new_tokens or 0)) * TEXT_SECONDS_PER_TOKEN


def duration_of(work: Callable[..., float]) -> Callable[..., int]:
    """A ``spaces.GPU`` duration function: called with the call's own arguments, it asks for
    ``work(*args, **kwargs)`` estimated seconds, or the default when the arguments cannot tell
    (a bad request is refused inside the call, with its own message)."""

    def duration(*args: Any, **kwargs: Any) -> int:
        try:
            return seconds(work(*args, **kwargs))
        except Exception:  # noqa: BLE001 - never let an estimate stop the call
            return DEFAULT_SECONDS

    return duration
