"""The face swap's GPU work: plain values in, plain values out (on ZeroGPU, across a fork), each
in its turn in the studio's queue; a swap counts in a student's runs and is screened when asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from studio import safety
from studio.faces import pipeline
from tabs.common import TabContext
from tabs.gpu import GpuWork


class FaceWork:
    def __init__(self, ctx: TabContext):
        self.ctx = ctx
        studio = ctx.studio

        def faces_on_gpu(picture: Any, score_threshold: float, detector: str) -> tuple:
            """(the picture as read, its faces) for a path or a picture held in memory."""
            return pipeline.find_faces(studio, picture, score_threshold, detector)

        def swap_on_gpu(swap_request: pipeline.SwapRequest, folder: str, safe: bool) -> pipeline.SwapResult:
            """The swapped picture, screened before it is saved or shown when ``safe`` (studio.safety)."""
            with safety.screening(studio, safe):
                return pipeline.swap_faces(studio, swap_request, Path(folder))

        self.finding = GpuWork(ctx, faces_on_gpu)
        self.swapping = GpuWork(ctx, swap_on_gpu)

    def find(self, request: gr.Request | None, key: str, picture: Any, score: float, detector: str) -> tuple:
        return self.finding.call(request, key, "Faces: find", picture, score, detector)

    def swap(self, request: gr.Request | None, key: str, swap_request: pipeline.SwapRequest,
             folder: Path) -> pipeline.SwapResult:
        return self.swapping.call(request, key, "Faces: swap", swap_request, str(folder),
                                  self.ctx.studio.class_rules.limits.safety, capped=True)
