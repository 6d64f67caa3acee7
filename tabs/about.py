"""About tab: what the studio is, which profile and models it uses, how to script it."""

from __future__ import annotations

import gradio as gr

from studio.models import catalog
from tabs.common import TabContext


def build(ctx: TabContext) -> None:
    settings = ctx.settings
    lang = settings.lang if settings.lang != "auto" else "en"
    rows = "\n".join(
        f"| {entry.name} | `{catalog.default_id(settings, entry.name)}` | {entry.description} |"
        for entry in catalog.CATALOG.values()
    )
    text = ctx.t.text("about.body", lang).format(
        profile=settings.profile,
        concurrency=settings.concurrency,
        max_upload_mb=settings.max_upload_mb,
        outputs=settings.outputs,
    )
    with gr.Tab(ctx.t("about.tab"), id="about"):
        gr.Markdown(text + "\n\n| capability | default model | used for |\n|---|---|---|\n" + rows)
