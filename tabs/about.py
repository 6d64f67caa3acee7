"""About tab: what the studio is, which profile and models it uses, how to script it."""

from __future__ import annotations

import gradio as gr

from studio.models import catalog
from tabs.common import TabContext, friendly


def build(ctx: TabContext) -> None:
    settings, t = ctx.settings, ctx.t

    def facts() -> dict:
        """The server's settings, with the device in use (resolved once the server is up, so
        torch is not imported on the way to the first page)."""
        return {
            "profile": settings.profile,
            "device": ctx.studio.describe_device(),
            "dtype": settings.dtype,
            "gpu_events_at_once": settings.concurrency,
            "max_upload_mb": settings.max_upload_mb,
            "outputs": str(settings.outputs),
        }

    models = [
        [entry.name, catalog.default_id(settings, entry.name), entry.description]
        for entry in catalog.CATALOG.values()
    ]
    with gr.Tab(t("about.tab"), id="about") as tab:
        gr.Markdown(t("about.body"), elem_id="about-body")
        server = gr.JSON({"profile": settings.profile, "device": settings.device}, label=t("about.settings"),
                         elem_id="about-server")
        # Full width, wrapped: the descriptions are sentences.
        gr.Dataframe(
            models, headers=[t.plain("about.col_capability"), t.plain("about.col_model"), t.plain("about.col_use")],
            label=t("about.models"), interactive=False, wrap=True, column_widths=["14%", "30%", "56%"],
            elem_id="about-models",
        )
        tab.select(friendly(facts), None, server, api_visibility="private", show_progress="hidden")
