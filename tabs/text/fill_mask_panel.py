"""The slide's own example, one click away: a Chinese masked LM's candidates for each [MASK] of
炎龍老師很[MASK][MASK], and the other direction, a sentence of the reader's own masked step by
step (forward noising)."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from studio.models import catalog
from studio.text.diffusion.fill_mask import CATALOG_NAME as FILL_MASK_MODELS
from studio.text.diffusion.fill_mask import EXAMPLE as FILL_EXAMPLE
from studio.text.diffusion.fill_mask import MAX_TOP_K
from tabs import owner
from tabs.common import TabContext, friendly, gpu_event
from tabs.text import diffusion_view as view
from tabs.text.diffusion_work import MASK_RATIO, NOISE_EXAMPLE, TOP_K, DiffusionWork


@dataclass
class BlanksParts:
    text: gr.Textbox
    top_k: gr.Slider
    model_id: gr.Dropdown
    fill_button: gr.Button
    filled: gr.Markdown
    table: gr.Dataframe
    sentence: gr.Textbox
    mask_ratio: gr.Slider
    seed: gr.Number
    noise_button: gr.Button
    noise_note: gr.Markdown
    noise_rows: gr.HTML


def layout(ctx: TabContext) -> BlanksParts:
    t = ctx.t
    models = catalog.choices(ctx.settings, FILL_MASK_MODELS)
    with gr.Accordion(t("text.diffusion.blanks"), open=True):
        gr.Markdown(t("text.diffusion.blanks_intro"))
        with gr.Row():
            text = gr.Textbox(FILL_EXAMPLE, label=t("text.diffusion.fill_text"), scale=3, elem_id="fill-mask-text")
            top_k = gr.Slider(1, MAX_TOP_K, value=TOP_K, step=1, label=t("text.diffusion.fill_top_k"), scale=1)
            model_id = gr.Dropdown(models, value=models[0], label=t("text.diffusion.fill_model"),
                                   allow_custom_value=True, scale=2, elem_id="fill-mask-model")
        fill_button = gr.Button(t("text.diffusion.fill_run"), variant="primary", elem_id="fill-mask-run")
        filled = gr.Markdown(elem_id="fill-mask-filled")
        table = gr.Dataframe(headers=list(view.FILL_COLUMNS), interactive=False, elem_id="fill-mask-table")
    with gr.Accordion(t("text.diffusion.noise"), open=False):
        gr.Markdown(t("text.diffusion.noise_intro"))
        with gr.Row():
            sentence = gr.Textbox(NOISE_EXAMPLE, label=t("text.diffusion.noise_text"), scale=3, elem_id="noise-text")
            mask_ratio = gr.Slider(0.05, 1, value=MASK_RATIO, step=0.05, label=t("text.diffusion.mask_ratio"),
                                   scale=2, elem_id="noise-ratio")
            seed = gr.Number(-1, precision=0, label=t("text.seed"), scale=1, elem_id="noise-seed")
        noise_button = gr.Button(t("text.diffusion.noise_run"), elem_id="noise-run")
        noise_note = gr.Markdown(elem_id="noise-note")
        noise_rows = gr.HTML(css_template=view.TOKEN_CSS, elem_id="noise-rows")
    return BlanksParts(text, top_k, model_id, fill_button, filled, table, sentence, mask_ratio, seed, noise_button,
                       noise_note, noise_rows)


def wire(ctx: TabContext, work: DiffusionWork, parts: BlanksParts) -> None:
    t, p = ctx.t, parts

    def ui_fill(text: str, top_k: int, model_id: str, browser_id: str, request: gr.Request = None):
        say = t.for_request(request)
        found = work.fill(request, owner.key_for(ctx, request, browser_id), text, top_k, model_id)
        filled = say("text.diffusion.filled").format(filled=found.filled, model=found.model)
        return filled, view.table(view.FILL_COLUMNS, view.fill_rows(found), say, "text.diffusion.col")

    def ui_noise(text: str, mask_ratio: float, seed: int, model_id: str, browser_id: str, request: gr.Request = None):
        say = t.for_request(request)
        found = work.noise(request, owner.key_for(ctx, request, browser_id), text, mask_ratio, seed, model_id)
        steps = len(found.steps) - 1  # step 0 is the sentence itself
        note = say("text.diffusion.noised").format(tokens=len(found.tokens), steps=steps, seed=found.seed)
        return note, view.noising_rows(found, say)

    for trigger in (p.fill_button.click, p.text.submit):
        trigger(friendly(ui_fill), [p.text, p.top_k, p.model_id, ctx.browser_id], [p.filled, p.table],
                api_visibility="private", **gpu_event(ctx))
    for trigger in (p.noise_button.click, p.sentence.submit):
        trigger(friendly(ui_noise), [p.sentence, p.mask_ratio, p.seed, p.model_id, ctx.browser_id],
                [p.noise_note, p.noise_rows], api_visibility="private", **gpu_event(ctx))
