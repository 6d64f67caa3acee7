"""Models tab: what the shared cache holds, where, how big; free one or all."""

from __future__ import annotations

import gradio as gr

from studio.models import report
from tabs.common import TabContext, friendly

COLUMNS = ["id", "device", "size_mb", "hits", "load_seconds", "idle_seconds", "in_use"]
HEADERS = ["model", "device", "size (MB)", "hits", "load (s)", "idle (s)", "in use"]
REFRESH_SECONDS = 3


def build(ctx: TabContext) -> None:
    t = ctx.t

    def models_status() -> dict:
        """The cache's contents, hit/miss counts and memory figures, as JSON."""
        return report.status(ctx.studio)

    def models_free(model: str = "all") -> dict:
        """Free one loaded model by its id (see models_status), or 'all'. Models in use stay."""
        result = report.free(ctx.studio, model)
        return {**result, "status": report.status(ctx.studio)}

    def view(status: dict):
        rows = [[m[c] for c in COLUMNS] for m in status["models"]]
        summary = (
            f"**{status['device']}** · {status['used_gb']} / {status['budget_gb']} GB · "
            f"offloaded {status['offloaded_gb']} GB · hits {status['hits']} · misses {status['misses']}"
        )
        ids = ["all"] + [m["id"] for m in status["models"]]
        return summary, {"headers": HEADERS, "data": rows}, status["memory_gb"], gr.update(choices=ids)

    def refresh():
        return view(models_status())

    def free_and_refresh(model: str):
        models_free(model)
        return refresh()

    with gr.Tab(t("models.tab"), id="models") as tab:
        summary = gr.Markdown(elem_id="models-summary")
        table = gr.Dataframe(headers=HEADERS, label=t("models.loaded"), interactive=False, elem_id="models-table")
        with gr.Row():
            choice = gr.Dropdown(["all"], value="all", label=t("models.pick"), allow_custom_value=True, scale=3)
            free_button = gr.Button(t("models.free"), variant="stop", scale=1)
            refresh_button = gr.Button(t("models.refresh"), scale=1)
        live = gr.Checkbox(True, label=t("models.live"))
        memory = gr.JSON(label=t("models.memory"))
        timer = gr.Timer(REFRESH_SECONDS)

        outputs = [summary, table, memory, choice]
        # API-only endpoints: scripts get the JSON, the UI gets the rendered view.
        gr.api(friendly(models_status), api_name="models_status")
        gr.api(friendly(models_free), api_name="models_free")
        refresh_button.click(friendly(refresh), None, outputs, api_visibility="private")
        free_button.click(friendly(free_and_refresh), choice, outputs, api_visibility="private")
        timer.tick(friendly(refresh), None, outputs, api_visibility="private", show_progress="hidden")
        tab.select(friendly(refresh), None, outputs, api_visibility="private")
        live.change(lambda on: gr.Timer(active=on), live, timer, api_visibility="private")
