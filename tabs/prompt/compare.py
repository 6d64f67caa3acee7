"""Compare: the same seed drawn from the original idea and from the expanded prompt, side by side."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from tabs import owner
from tabs.common import TabContext, friendly, gpu_event
from tabs.i18n import Translator
from tabs.prompt.form import PromptForm
from tabs.prompt.work import PromptWork


@dataclass
class CompareParts:
    button: gr.Button
    note: gr.Markdown
    original_image: gr.Image
    expanded_image: gr.Image


def layout_compare(t: Translator) -> CompareParts:
    with gr.Accordion(t("prompt.compare"), open=False):
        gr.Markdown(t("prompt.compare_intro"))
        compare_button = gr.Button(t("prompt.compare_button"), elem_id="prompt-compare")
        compare_note = gr.Markdown(elem_id="prompt-compare-note")
        with gr.Row():
            original_image = gr.Image(label=t("prompt.compare_original"), interactive=False,
                                      elem_id="prompt-compare-original")
            expanded_image = gr.Image(label=t("prompt.compare_expanded"), interactive=False,
                                      elem_id="prompt-compare-expanded")
    return CompareParts(compare_button, compare_note, original_image, expanded_image)


def wire_compare(ctx: TabContext, work: PromptWork, form: PromptForm, parts: CompareParts) -> None:
    t, studio = ctx.t, ctx.studio

    def on_compare(original, expanded, negative, seed, request: gr.Request = None):
        say = t.for_request(request)
        pair = work.comparing.call(request, owner.key_for(ctx, request), "Prompt: compare", original, expanded, negative,
                                   seed, str(owner.folder_for(ctx, request)), studio.class_rules.limits.safety,
                                   capped=True)
        return (pair.original.path or pair.original.image, pair.expanded.path or pair.expanded.image,
                say("prompt.compare_done").format(seed=pair.seed))

    parts.button.click(friendly(on_compare), [form.text, form.output, form.negative, form.seed],
                       [parts.original_image, parts.expanded_image, parts.note], api_visibility="private",
                       **gpu_event(ctx))
