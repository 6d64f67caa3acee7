"""Describe: a picture into a prompt by the captioning model (photo or art), shown by its button;
the user decides whether the caption becomes the prompt. Also the /describe_image endpoint."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from tabs import api_types, owner
from tabs.common import TabContext, friendly, gpu_event, uploaded
from tabs.i18n import Translator
from tabs.picture_input import PictureInput
from tabs.prompt.form import PromptForm
from tabs.prompt.work import PromptWork


@dataclass
class DescribeParts:
    upload: PictureInput
    mode: gr.Radio
    button: gr.Button
    caption: gr.Textbox
    use_caption: gr.Button


def layout_describe(t: Translator) -> DescribeParts:
    with gr.Accordion(t("prompt.describe"), open=False):
        with gr.Row():
            describe_upload = PictureInput(type="filepath", label=t("prompt.describe_image"), height=240,
                                           elem_id="prompt-describe-image")
            with gr.Column():
                mode = gr.Radio([(t("prompt.mode_photo"), "photo"), (t("prompt.mode_art"), "art")],
                                value="photo", label=t("prompt.describe_mode"), elem_id="prompt-describe-mode")
                describe_button = gr.Button(t("prompt.describe_button"), elem_id="prompt-describe")
                # The caption lands here, by its button; the user decides whether it becomes the prompt.
                caption = gr.Textbox(label=t("prompt.caption"), lines=3, elem_id="prompt-caption")
                use_caption = gr.Button(t("prompt.use_caption"), size="sm", elem_id="prompt-use-caption")
    return DescribeParts(describe_upload, mode, describe_button, caption, use_caption)


def wire_describe(ctx: TabContext, work: PromptWork, form: PromptForm, parts: DescribeParts) -> None:
    t = ctx.t

    def describe_image(image: gr.FileData | None, mode: api_types.DescribeMode = "photo",
                       request: gr.Request = None) -> str:
        """A prompt for `image` (a file) from the captioning model. mode: photo | art (Art / Anime)."""
        path = uploaded(image, "the image to describe") if image is not None else None
        return on_describe(path, mode, request)

    def on_describe(image: str | None, mode: api_types.DescribeMode, request: gr.Request = None) -> str:
        return work.describing.call(request, owner.key_for(ctx, request), "Prompt: describe", image, mode)

    parts.button.click(friendly(on_describe), [parts.upload, parts.mode], parts.caption, api_visibility="private",
                       **gpu_event(ctx))
    # The API's own endpoint: a script's mode is checked with the studio's sentence, not the radio's.
    gr.api(friendly(describe_image), api_name="describe_image", **gpu_event(ctx))

    def caption_as_prompt(text_value: str, request: gr.Request = None):
        """The caption becomes the result (the negative prompt stays yours); the info line
        says where it came from instead of what an earlier expansion said."""
        if not (text_value or "").strip():
            raise gr.Error(t.for_request(request)("prompt.no_caption"), print_exception=False)
        return text_value, t.for_request(request)("prompt.from_caption"), ""

    parts.use_caption.click(caption_as_prompt, parts.caption, [form.output, form.info, form.variants_view],
                            api_visibility="private")
