"""The Prompt tab's main row: the idea, Expand / Classic, the English prompt and its negative,
Send to Image, the variants; beside them the expansion's options and the LLM (local or a server)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from studio.prompts import instructions
from studio.prompts.expand import MAX_VARIANTS
from studio.text import service
from tabs.i18n import Translator


@dataclass
class PromptForm:
    text: gr.Textbox
    expand_button: gr.Button
    classic_button: gr.Button
    info: gr.Markdown
    output: gr.Textbox
    negative: gr.Textbox
    send_button: gr.Button
    variants_view: gr.Markdown
    length: gr.Radio
    target: gr.Radio
    temperature: gr.Slider
    seed: gr.Number
    variants: gr.Slider
    keep_english: gr.Checkbox
    trim: gr.Checkbox
    model_id: gr.Dropdown
    use_text_model: gr.Button
    backend: gr.Radio
    endpoint_url: gr.Textbox
    endpoint_model: gr.Textbox
    endpoint_key: gr.Textbox

    @property
    def result_outputs(self) -> list[gr.components.Component]:
        """What an expansion (or a caption taken as the prompt) fills."""
        return [self.output, self.negative, self.info, self.variants_view]


def build_form(t: Translator, model_choices: list[str]) -> PromptForm:
    with gr.Row():
        with gr.Column(scale=3):
            idea = _idea_column(t)
        with gr.Column(scale=2):
            options = _options_column(t, model_choices)
    return PromptForm(**idea, **options)


def _idea_column(t: Translator) -> dict[str, Any]:
    text = gr.Textbox(label=t("prompt.input"), placeholder=t("prompt.input_placeholder"), lines=3,
                      elem_id="prompt-input")
    with gr.Row():
        expand_button = gr.Button(t("prompt.expand"), variant="primary", elem_id="prompt-expand")
        classic_button = gr.Button(t("prompt.classic"), elem_id="prompt-classic")
    info = gr.Markdown(elem_id="prompt-info")
    output = gr.Textbox(label=t("prompt.output"), lines=3, elem_id="prompt-output")
    negative = gr.Textbox(label=t("prompt.negative"), lines=1, elem_id="prompt-negative")
    send_button = gr.Button(t("prompt.send_image"), elem_id="prompt-send-image")
    with gr.Accordion(t("prompt.variants_out"), open=False):
        variants_view = gr.Markdown(elem_id="prompt-variants")
    return dict(text=text, expand_button=expand_button, classic_button=classic_button, info=info, output=output,
                negative=negative, send_button=send_button, variants_view=variants_view)


def _options_column(t: Translator, model_choices: list[str]) -> dict[str, Any]:
    length = gr.Radio(
        [(t(f"prompt.length_{name}"), name) for name in instructions.LENGTHS],
        value="medium", label=t("prompt.length"), elem_id="prompt-length",
    )
    target = gr.Radio(
        [(t("prompt.target_sdxl"), "sdxl"), (t("prompt.target_zimage"), "zimage")],
        value="sdxl", label=t("prompt.target"), elem_id="prompt-target",
    )
    temperature = gr.Slider(0, 2, 0.7, step=0.05, label=t("prompt.temperature"))
    with gr.Row():
        seed = gr.Number(-1, precision=0, label=t("prompt.seed"), elem_id="prompt-seed")
        variants = gr.Slider(1, MAX_VARIANTS, 1, step=1, label=t("prompt.variants"))
    keep_english = gr.Checkbox(True, label=t("prompt.keep_english"))
    trim = gr.Checkbox(False, label=t("prompt.trim"))
    model_id = gr.Dropdown(model_choices, value=model_choices[0], label=t("prompt.model"),
                           allow_custom_value=True, elem_id="prompt-model")
    use_text_model = gr.Button(t("prompt.use_text_model"), size="sm")
    with gr.Accordion(t("prompt.endpoint"), open=False):
        backend = gr.Radio([(t("text.backend_local"), "local"), (t("text.backend_openai"), "openai")], value="local", label=t("prompt.backend"),
                           info=t("prompt.backend_info"))
        endpoint_url = gr.Textbox(service.server_endpoint(), label=t("prompt.endpoint_url"),
                                  placeholder="http://localhost:1234/v1")
        endpoint_model = gr.Textbox(label=t("prompt.endpoint_model"))
        endpoint_key = gr.Textbox(label=t("prompt.endpoint_key"), type="password")
    return dict(length=length, target=target, temperature=temperature, seed=seed, variants=variants,
                keep_english=keep_english, trim=trim, model_id=model_id, use_text_model=use_text_model,
                backend=backend, endpoint_url=endpoint_url, endpoint_model=endpoint_model, endpoint_key=endpoint_key)
