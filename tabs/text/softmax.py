"""Softmax by hand: scores typed in, probabilities at temperature 1 and at a chosen temperature
(no model, no GPU); and /softmax."""

from __future__ import annotations

from typing import Callable

import gradio as gr

from studio.text.filtering import softmax_table
from tabs.common import TabContext, friendly

HEADER_KEYS = ("text.softmax.score", "text.softmax.exp", "text.softmax.p1", "text.softmax.pt")


def softmax_view(scores: str, temperature: float) -> dict:
    """Softmax of scores typed by hand, at temperature 1 and at `temperature`."""
    rows = softmax_table(scores, temperature)
    return {"headers": list(rows[0]), "data": [list(r.values()) for r in rows]}


def softmax_shown(scores: str, temperature: float, say: Callable[[str], str]) -> dict:
    """``softmax_view`` with its column names in the reader's language (the API keeps its own)."""
    table = softmax_view(scores, temperature)
    table["headers"] = [say(key).format(temperature=f"{float(temperature):g}") for key in HEADER_KEYS]
    return table


def build(ctx: TabContext) -> None:
    """The sub-tab and its button."""
    t = ctx.t
    with gr.Tab(t("text.softmax_tab"), id="text-softmax"):
        gr.Markdown(t("text.softmax_intro"))
        scores = gr.Textbox(label=t("text.scores"), value="2.0, 1.0, 0.1", elem_id="softmax-scores")
        temperature = gr.Slider(0, 5, value=1.0, step=0.05, label=t("text.temperature"))
        run_button = gr.Button(t("text.softmax_run"), elem_id="softmax-run")
        table = gr.Dataframe(interactive=False, elem_id="softmax-table")

    def ui_softmax(scores_text: str, temperature_value: float, request: gr.Request = None) -> dict:
        return softmax_shown(scores_text, temperature_value, t.for_request(request))

    run_button.click(friendly(ui_softmax), [scores, temperature], table, api_visibility="private")


def register_api() -> None:
    gr.api(friendly(softmax_view), api_name="softmax")
