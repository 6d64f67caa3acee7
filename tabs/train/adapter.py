"""A finished job's adapter: download it as a zip, merge it into its base model, and compare
base, few-shot and tuned answers to one prompt. Merge and Compare load a model of their own:
GPU work, in its turn like any other."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from studio.train import adapters
from tabs.common import TabContext, friendly, gpu_event
from tabs.gpu import GpuWork
from tabs.i18n import Translator
from tabs.train.display import _shown_answer
from tabs.train.runner import owner_of


@dataclass
class AdapterParts:
    zip_button: gr.Button
    merge_button: gr.Button
    download: gr.File
    compare_prompt: gr.Textbox
    few_shot: gr.Textbox
    max_new: gr.Slider
    compare_button: gr.Button
    answers: list[gr.Textbox]  # base, few-shot, tuned


def layout_adapter(t: Translator) -> AdapterParts:
    with gr.Row():
        zip_button = gr.Button(t("train.download"))
        merge_button = gr.Button(t("train.merge"))
        download = gr.File(label=t("train.adapter_zip"), interactive=False)
    with gr.Accordion(t("train.compare"), open=False):
        compare_prompt = gr.Textbox("I want you to act as a motivational coach", label=t("train.compare_prompt"))
        few_shot = gr.Textbox("", lines=5, label=t("train.few_shot"), info=t("train.few_shot_info"))
        max_new = gr.Slider(1, 256, 64, step=1, label=t("train.max_new_tokens"))
        compare_button = gr.Button(t("train.compare_run"))
        with gr.Row():
            base_answer = gr.Textbox(label=t("train.base_answer"), lines=6)
            shot_answer = gr.Textbox(label=t("train.few_shot_answer"), lines=6)
            tuned_answer = gr.Textbox(label=t("train.tuned_answer"), lines=6)
    return AdapterParts(zip_button, merge_button, download, compare_prompt, few_shot, max_new, compare_button,
                        [base_answer, shot_answer, tuned_answer])


def wire_adapter(ctx: TabContext, parts: AdapterParts, job: gr.Dropdown, job_status: gr.Markdown) -> None:
    t, settings = ctx.t, ctx.settings

    def ui_zip(job_id: str, browser_id: str, request: gr.Request = None):
        return str(adapters.zip_adapter(settings, owner_of(ctx, request, browser_id), job_id or ""))

    def merge_on_gpu(owner_key: str, job_id: str) -> str:
        return str(adapters.merge(settings, owner_key, job_id))

    def compare_on_gpu(owner_key: str, job_id: str, prompt: str, shots: str | None, max_new_tokens: int) -> dict:
        from studio.train.compare import compare

        return compare(settings, owner_key, job_id, prompt, shots, max_new_tokens)

    merging, comparing = GpuWork(ctx, merge_on_gpu), GpuWork(ctx, compare_on_gpu)

    def ui_merge(job_id: str, browser_id: str, request: gr.Request = None):
        key = owner_of(ctx, request, browser_id)
        target = merging.call(request, key, "Train: merge", key, job_id or "", capped=True)
        return f"Merged model saved to `{target}`."

    def ui_compare(job_id: str, prompt: str, shots: str, max_new_tokens: int, browser_id: str, request: gr.Request = None):
        key = owner_of(ctx, request, browser_id)
        result = comparing.call(request, key, "Train: compare", key, job_id or "", prompt, shots or None,
                                int(max_new_tokens), capped=True)
        say = t.for_request(request)
        return (*(_shown_answer(result[key], say) for key in ("base", "base_few_shot", "tuned")), result["few_shot"])

    parts.zip_button.click(friendly(ui_zip), [job, ctx.browser_id], parts.download, api_visibility="private")
    parts.merge_button.click(friendly(ui_merge), [job, ctx.browser_id], job_status, api_visibility="private",
                             **gpu_event(ctx))
    parts.compare_button.click(friendly(ui_compare), [job, parts.compare_prompt, parts.few_shot, parts.max_new,
                                                      ctx.browser_id],
                               [*parts.answers, parts.few_shot], api_visibility="private", **gpu_event(ctx))
