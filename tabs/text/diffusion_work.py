"""The Diffusion mode's GPU work: masked-diffusion text (streamed, step by step, with Stop),
the fill-mask panel and forward noising. Each body takes and gives plain values (a ZeroGPU
worker pickles them); it runs in its turn in the studio's fair GPU queue, refused to nobody
but checked at the door: a student's model against the class's list, the request's numbers
before it waits in the queue."""

from __future__ import annotations

from typing import Iterator

import gradio as gr

from studio import zero_gpu
from studio.progress import Cancelled, CancelFlag
from studio.runs import Run
from studio.text.diffusion.fill_mask import CATALOG_NAME as FILL_MASK_MODELS
from studio.text.diffusion.fill_mask import FillMaskResult, fill_mask
from studio.text.diffusion.noising import NoisingResult, forward_noising
from studio.text.diffusion.request import (
    CATALOG_NAME,
    DiffusionRequest,
    DiffusionResult,
    DiffusionUpdate,
    check_request,
)
from studio.text.diffusion.stream import stream_diffusion
from tabs.common import TabContext
from tabs.gpu import GpuWork, run_events
from tabs.text.work import TextWork

# The defaults the page and the API share, written once.
DEFAULTS = DiffusionRequest(prompt="")
PROMPT_EXAMPLE = "Why is the sky blue?"  # the chat models were tuned in English
NOISE_EXAMPLE = "炎龍老師很好笑"  # the slide's sentence
TOP_K = 5
MASK_RATIO = 0.25


class DiffusionWork:
    def __init__(self, ctx: TabContext, text: TextWork):
        self.ctx, self.text = ctx, text
        studio = ctx.studio

        def diffuse_on_gpu(diffusion: DiffusionRequest, cancel: CancelFlag) -> Iterator[DiffusionUpdate]:
            """Step 0 (all masks), one update per forward pass, then the result."""
            yield from stream_diffusion(studio, diffusion, cancel)

        def fill_mask_on_gpu(text: str, top_k: int, model_id: str) -> FillMaskResult:
            return fill_mask(studio, text, top_k, model_id)

        def noise_on_gpu(text: str, mask_ratio: float, seed: int, model_id: str) -> NoisingResult:
            return forward_noising(studio, text, mask_ratio, seed, model_id)

        # One forward pass per step, each about one token's pass of a small chat model.
        self.diffusing = GpuWork(ctx, diffuse_on_gpu, lambda named: zero_gpu.text_work(named["diffusion"].steps))
        self.filling = GpuWork(ctx, fill_mask_on_gpu)
        self.noising = GpuWork(ctx, noise_on_gpu)

    def start(self, diffusion: DiffusionRequest, request: gr.Request | None, key: str,
              flag: CancelFlag | None = None) -> Run:
        """Queue a diffusion run; a bad request is refused here, with its sentence, before it waits."""
        checked = check_request(diffusion)
        self.text.class_models(request, checked.model_id, CATALOG_NAME)
        return self.diffusing.start(request, key, f"Text diffusion: {checked.steps} steps", checked, flag=flag)

    def run_to_end(self, diffusion: DiffusionRequest, request: gr.Request | None, key: str) -> DiffusionResult:
        """The whole run (the API); ``Cancelled`` when it was stopped before a result."""
        result = None
        for event in run_events(self.start(diffusion, request, key)):
            result = getattr(event, "result", None) or result
        if result is None:
            raise Cancelled()
        return result

    def fill(self, request: gr.Request | None, key: str, text: str, top_k: int, model_id: str) -> FillMaskResult:
        self.text.class_models(request, model_id, FILL_MASK_MODELS)
        return self.filling.call(request, key, "Text: fill in the blanks", text, top_k, model_id)

    def noise(self, request: gr.Request | None, key: str, text: str, mask_ratio: float, seed: int,
              model_id: str) -> NoisingResult:
        self.text.class_models(request, model_id, FILL_MASK_MODELS)
        return self.noising.call(request, key, "Text: forward noising", text, mask_ratio, seed, model_id)
