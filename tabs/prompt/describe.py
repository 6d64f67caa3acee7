"""Describe: a picture into a prompt by the captioning model (photo or art), shown by its button;
the user decides whether the caption becomes the prompt. Also the /describe_image endpoint. The
picture and the mode are DescribeRequest's declared fields: the controls, the endpoint's
parameters and their checks come from that one declaration."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from studio.prompts import describe
from studio.tools.fields import fields_of
from tabs import owner
from tabs.common import TabContext, friendly, gpu_event
from tabs.picture_input import PictureInput
from tabs.prompt.form import PromptForm
from tabs.prompt.work import PromptWork
from tabs.tools import control, request_api, request_of

DECLARED = {field.name: field for field in fields_of(describe.DescribeRequest)}
SUMMARY = "A prompt for `image` from the captioning model, in the words of a photo or of an illustration."


@dataclass
class DescribeParts:
    upload: PictureInput
    mode: gr.Radio
    button: gr.Button
    caption: gr.Textbox
    use_caption: gr.Button


def layout_describe(ctx: TabContext) -> DescribeParts:
    t = ctx.t
    with gr.Accordion(t("prompt.describe"), open=False):
        with gr.Row():
            describe_upload = control(ctx, DECLARED["image"], "prompt-describe-image")
            with gr.Column():
                mode = control(ctx, DECLARED["mode"], "prompt-describe-mode")
                describe_button = gr.Button(t("prompt.describe_button"), elem_id="prompt-describe")
                # The caption lands here, by its button; the user decides whether it becomes the prompt.
                caption = gr.Textbox(label=t("prompt.caption"), lines=3, elem_id="prompt-caption")
                use_caption = gr.Button(t("prompt.use_caption"), size="sm", elem_id="prompt-use-caption")
    return DescribeParts(describe_upload, mode, describe_button, caption, use_caption)


def wire_describe(ctx: TabContext, work: PromptWork, form: PromptForm, parts: DescribeParts) -> None:
    t = ctx.t

    def run(job: describe.DescribeRequest, request: gr.Request | None) -> str:
        return work.describing.call(request, owner.key_for(ctx, request), "Prompt: describe", job.image, job.mode)

    def on_describe(image: str | None, mode: str, request: gr.Request = None) -> str:
        return run(request_of(describe.DescribeRequest, {"image": image, "mode": mode}, settings=ctx.settings),
                   request)

    parts.button.click(friendly(on_describe), [parts.upload, parts.mode], parts.caption, api_visibility="private",
                       **gpu_event(ctx))
    endpoint = request_api(describe.DescribeRequest, "describe_image", SUMMARY, run, ctx.settings, returns=str)
    gr.api(friendly(endpoint), api_name="describe_image", **gpu_event(ctx))

    def caption_as_prompt(text_value: str, request: gr.Request = None):
        """The caption becomes the result (the negative prompt stays yours); the info line
        says where it came from instead of what an earlier expansion said."""
        if not (text_value or "").strip():
            raise gr.Error(t.for_request(request)("prompt.no_caption"), print_exception=False)
        return text_value, t.for_request(request)("prompt.from_caption"), ""

    parts.use_caption.click(caption_as_prompt, parts.caption, [form.output, form.info, form.variants_view],
                            api_visibility="private")
