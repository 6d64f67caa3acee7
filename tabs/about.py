"""About tab: what the studio is, which profile and models it uses, how to script it."""

from __future__ import annotations

import gradio as gr

from studio.models import catalog
from tabs.common import TabContext


def build(ctx: TabContext) -> None:
    settings = ctx.settings
    facts = {
        "profile": settings.profile,
        "device": settings.device,
        "dtype": settings.dtype,
        "gpu_events_at_once": settings.concurrency,
        "max_upload_mb": settings.max_upload_mb,
        "outputs": str(settings.outputs),
    }
    models = [
        [entry.name, catalog.default_id(settings, entry.name), entry.description]
        for entry in catalog.CATALOG.values()
    ]
    with gr.Tab(ctx.t("about.tab"), id="about"):
        gr.Markdown(ctx.t("about.body"), elem_id="about-body")
        with gr.Row():
            gr.JSON(facts, label=ctx.t("about.settings"))
            gr.Dataframe(
                models, headers=["capability", "default model", "used for"],
                label=ctx.t("about.models"), interactive=False, wrap=True, scale=2,
            )
