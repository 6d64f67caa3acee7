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
            "gpu_events_at_once": ctx.studio.gpu_slots(),
            "ray_cluster": ctx.studio.cluster.address if ctx.studio.cluster is not None else None,
            "max_upload_mb": settings.max_upload_mb,
            "outputs": str(settings.outputs),
            "lasting_data": str(settings.data) if settings.data is not None else None,
        }

    def models_table(say) -> dict:
        """Each capability, its model and what it is for, in the reader's language."""
        return {
            "headers": [say("about.col_capability"), say("about.col_model"), say("about.col_use")],
            "data": [[entry.name, catalog.default_id(settings, entry.name), say(f"catalog.{entry.name}")]
                     for entry in catalog.CATALOG.values()],
        }

    def on_select(request: gr.Request = None) -> tuple:
        return facts(), models_table(t.for_request(request))

    with gr.Tab(t("about.tab"), id="about") as tab:
        gr.Markdown(t("about.body"), elem_id="about-body")
        if ctx.results_vanish:
            gr.Markdown(t("app.results_vanish"), elem_classes=["banner"], elem_id="about-vanish")
        server = gr.JSON({"profile": settings.profile, "device": settings.device}, label=t("about.settings"),
                         elem_id="about-server")
        # Full width, wrapped: the descriptions are sentences.
        shown = models_table(t.plain)
        models = gr.Dataframe(
            shown["data"], headers=shown["headers"], label=t("about.models"), interactive=False, wrap=True,
            column_widths=["14%", "30%", "56%"], elem_id="about-models",
        )
        tab.select(friendly(on_select), None, [server, models], api_visibility="private", show_progress="hidden")
