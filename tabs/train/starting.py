"""Estimate (trainable parameters and memory, from the model's config alone) and Start: the
form's values into a queued job, which the job panel then picks and watches."""

from __future__ import annotations

import gradio as gr

from studio.train import service
from studio.train.runner import Runner
from tabs.common import TabContext, friendly
from tabs.train.display import estimate_markdown
from tabs.train.form import TrainForm
from tabs.train.job_panel import JobWatch
from tabs.train.runner import class_limits, owner_of


def wire_start(ctx: TabContext, runner: Runner, form: TrainForm, watch: JobWatch) -> None:
    settings = ctx.settings
    task, base_model = form.task, form.base_model
    field_set = set(form.fields.values())

    def ui_estimate(values: dict):
        return estimate_markdown(service.estimate(settings, values[task], values[base_model], form.collect(values)))

    form.estimate_button.click(friendly(ui_estimate), field_set | {task, base_model}, form.estimate_view,
                               api_visibility="private")

    def ui_start(values: dict, request: gr.Request = None):
        owner = owner_of(ctx, request, values[ctx.browser_id])
        job_id = service.start(settings, runner, owner, values[task], values[form.dataset_path], form.collect(values),
                               values[base_model], values[form.adapter_name],
                               class_limits(ctx, request, values[task], values[base_model]))
        return gr.update(choices=watch.job_choices(owner), value=job_id), *watch.view(job_id, values[ctx.browser_id], request)

    form.start_button.click(friendly(ui_start),
                            field_set | {task, base_model, form.adapter_name, form.dataset_path, ctx.browser_id},
                            [watch.panel.job, *watch.outputs], api_visibility="private")
