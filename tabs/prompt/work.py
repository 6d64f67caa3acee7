"""The Prompt tab's GPU work: plain values in, plain values out (on ZeroGPU, across a fork), each
in its turn in the studio's queue; an expansion checks a student's model at the door."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from studio import safety, zero_gpu
from studio.models import catalog
from studio.prompts import classic, describe, instructions
from studio.prompts.expand import ExpandOptions, ExpandRequest, ExpandResult, expand
from studio.prompts.side_by_side import SideBySide, side_by_side
from tabs import owner, roles
from tabs.common import TabContext
from tabs.gpu import GpuWork

if TYPE_CHECKING:
    from studio.image.fooocus_v2 import ClassicResult
    from studio.text.remote import RemoteEndpoint


class PromptWork:
    def __init__(self, ctx: TabContext):
        self.ctx = ctx
        studio = ctx.studio

        def expand_on_gpu(text: str, options: ExpandOptions, endpoint: RemoteEndpoint | None) -> ExpandResult:
            return expand(studio, text, options, endpoint)

        def classic_on_gpu(text: str, temperature: float, seed: Any) -> ClassicResult:
            return classic.classic_expand(studio, text, temperature, seed)

        def describe_on_gpu(image: str, mode: str) -> str:
            return describe.describe(studio, image, mode)

        def compare_on_gpu(original: str, expanded: str, negative: str, seed: Any, folder: str,
                           safe: bool) -> SideBySide:
            with safety.screening(studio, safe):
                return side_by_side(studio, original, expanded, negative, seed, folder=Path(folder))

        # ZeroGPU's seconds for an expansion: its length's tokens, for every variant.
        self.expanding = GpuWork(ctx, expand_on_gpu, lambda named: zero_gpu.text_work(
            instructions.LENGTHS.get(named["options"].length, (None, 256))[1] * max(1, int(named["options"].variants or 1))))
        self.classic_expanding = GpuWork(ctx, classic_on_gpu)
        self.describing = GpuWork(ctx, describe_on_gpu)
        self.comparing = GpuWork(ctx, compare_on_gpu)

    def expanded(self, request: gr.Request | None, job: ExpandRequest) -> ExpandResult:
        ctx = self.ctx
        rules = roles.limits_for(ctx, request)
        if rules is not None:  # a student picks the LLM from the catalog (and the teacher's allow-list)
            rules.check_model(job.options.model_id or "", catalog.choices(ctx.settings, "text"))
        return self.expanding.call(request, owner.key_for(ctx, request), "Prompt: expand", job.text, job.options,
                                   job.remote.endpoint(ctx.settings))
