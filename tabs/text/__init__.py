"""Text tab: chat / completion with sampling controls, streaming and Stop; a next-token explorer;
softmax by hand; diffusion text (an answer unmasked step by step) beside next-token generation.
Only components and wiring here: the work is in studio.text.

- ``shared``: the model row (backend, model, adapter) every part reads; ``knobs``: the sampling
  knobs column and its presets; ``api_signature``: the text endpoints' typed parameters;
- ``work`` / ``diffusion_work``: the GPU work (plain values in and out) and the checks at its door;
- ``chat``, ``explorer``, ``softmax``, ``diffusion`` (+ ``diffusion_view``, ``fill_mask_panel``,
  ``diffusion_api``): one sub-tab each, with its events and endpoints.
"""

from __future__ import annotations

import gradio as gr

from tabs.common import TabContext
from tabs.text import chat, diffusion, diffusion_api, explorer, shared, softmax
from tabs.text.diffusion_work import DiffusionWork
from tabs.text.knobs import knobs_column
from tabs.text.work import TextWork


def build(ctx: TabContext) -> None:
    t = ctx.t
    work = TextWork(ctx)
    diffusion_work = DiffusionWork(ctx, work)
    with gr.Tab(t("text.tab"), id="text"):
        gr.Markdown(t("text.intro"))
        row = shared.model_row(ctx)
        with gr.Row():
            with gr.Column(scale=3):
                with gr.Tabs():
                    chat_parts = chat.layout(t)
                    explorer_parts = explorer.layout(t)
                    softmax.build(ctx)
                    diffusion_parts = diffusion.layout(ctx)
            with gr.Column(scale=2):
                column = knobs_column(t)
        controls = shared.SharedControls(row, column)
        shared.wire_model_row(ctx, row)
        chat.wire(ctx, controls, work, chat_parts)
        explorer_work = explorer.Explorer(ctx, work)
        explorer.wire(ctx, controls, explorer_work, explorer_parts)
        diffusion.wire(ctx, controls, diffusion_work, diffusion_parts)
        softmax.register_api()
        chat.register_api(ctx, controls, work)
        explorer.register_api(ctx, controls, explorer_work)
        diffusion_api.register_api(ctx, diffusion_work)
