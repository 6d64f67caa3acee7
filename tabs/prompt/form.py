"""The Prompt tab's main row: the idea, Expand / Classic, the English prompt and its negative,
Send to Image, the variants; beside them the expansion's options and the LLM (local or a server)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from studio.prompts.expand import ExpandOptions, ExpandRequest
from studio.text import service
from studio.tools.fields import fields_of
from tabs.common import TabContext
from tabs.tools import control, controls

# Each option's one declaration (its control here, /expand_prompt's parameter, its check).
DECLARED = {field.name: field for field in fields_of(ExpandOptions)}
IDEA = next(field for field in fields_of(ExpandRequest) if field.name == "text")


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


def build_form(ctx: TabContext) -> PromptForm:
    with gr.Row():
        with gr.Column(scale=3):
            idea = _idea_column(ctx)
        with gr.Column(scale=2):
            options = _options_column(ctx)
    return PromptForm(**idea, **options)


def _idea_column(ctx: TabContext) -> dict[str, Any]:
    t = ctx.t
    text = control(ctx, IDEA, "prompt-input")
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


def _options_column(ctx: TabContext) -> dict[str, Any]:
    t = ctx.t

    def made(*names: str) -> dict[str, Any]:
        return controls(ctx, [DECLARED[name] for name in names], "prompt")

    options = made("length", "target", "temperature")
    with gr.Row():
        options |= made("seed", "variants")
    options |= made("keep_english", "trim")
    options["model_id"] = control(ctx, DECLARED["model_id"], "prompt-model")
    use_text_model = gr.Button(t("prompt.use_text_model"), size="sm")
    # The server's row as the Text tab has it (the URL the owner set shown, the key hidden as typed);
    # what it takes is RemoteChoice's declaration, which /expand_prompt's parameters and checks read.
    with gr.Accordion(t("prompt.endpoint"), open=False):
        backend = gr.Radio([(t("text.backend_local"), "local"), (t("text.backend_openai"), "openai")], value="local",
                           label=t("prompt.backend"), info=t("prompt.backend_info"))
        endpoint_url = gr.Textbox(service.server_endpoint(), label=t("prompt.endpoint_url"),
                                  placeholder="http://localhost:1234/v1")
        endpoint_model = gr.Textbox(label=t("prompt.endpoint_model"))
        endpoint_key = gr.Textbox(label=t("prompt.endpoint_key"), type="password")
    return dict(**options, use_text_model=use_text_model, backend=backend, endpoint_url=endpoint_url,
                endpoint_model=endpoint_model, endpoint_key=endpoint_key)
