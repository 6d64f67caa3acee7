"""The face models by role (detector, recogniser, swapper, restorer), picked from the catalog,
with a table of their licences in the reader's language."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import gradio as gr

from studio.faces import pipeline
from studio.models import catalog
from tabs.common import TabContext, friendly

if TYPE_CHECKING:
    from studio.settings import Settings

MODEL_LABELS = {
    pipeline.DETECTOR: "faceswap.detector", pipeline.RECOGNISER: "faceswap.recogniser",
    pipeline.SWAPPER: "faceswap.swapper", pipeline.RESTORER: "faceswap.restorer",
}


def licence_table(settings: Settings, picked: dict[str, str], say: Callable[[str], str]) -> str:
    rows = [f"| {say('faceswap.model')} | id | {say('faceswap.licence')} |", "|---|---|---|"]
    for name, key in MODEL_LABELS.items():
        model_id = picked.get(name) or catalog.default_id(settings, name)
        known = model_id in catalog.entry(name).notes  # a catalog model's licence note, in the reader's language
        rows.append(f"| {say(key)} | `{model_id}` | {say(f'catalog.note.{model_id}' if known else 'catalog.own_file')} |")
    return "\n".join(rows)


def layout_models(ctx: TabContext) -> tuple[dict[str, gr.Dropdown], gr.Markdown]:
    """The pickers (role -> dropdown) and the licence table, in their accordion."""
    t, settings = ctx.t, ctx.settings
    with gr.Accordion(t("faceswap.models"), open=False):
        pickers = {
            name: gr.Dropdown(pipeline.offered(settings, name), value=catalog.default_id(settings, name),
                              label=t(key), allow_custom_value=False, elem_id=f"faceswap-{name}")
            for name, key in MODEL_LABELS.items()
        }
        licences = gr.Markdown(licence_table(settings, {}, t.plain), elem_id="faceswap-licences")
    return pickers, licences


def wire_licences(ctx: TabContext, pickers: dict[str, gr.Dropdown], licences: gr.Markdown) -> None:
    t, settings = ctx.t, ctx.settings

    def show_licences(*picked: str, request: gr.Request = None):
        return licence_table(settings, dict(zip(MODEL_LABELS, picked)), t.for_request(request))

    for picker in pickers.values():
        picker.change(friendly(show_licences), list(pickers.values()), licences, api_visibility="private")

    def licences_on_load(_browser_id: str, request: gr.Request = None):
        return licence_table(settings, {}, t.for_request(request))

    ctx.after_load.append((friendly(licences_on_load), [licences]))
