"""Train tab: LoRA-tune a causal LM or a classifier on a small table, watch the loss, compare.

Only components and wiring here: the work is in ``studio.train`` (jobs run in their own
worker process; this page reads their folders, so a reload or a restart finds them again).
One module per part:

- ``runner``: the app's one runner, whose job is whose, a student's limits;
- ``form``: the controls (one per TrainConfig field), Estimate and Start;
- ``dataset``: picking a dataset, its column mapping and preview; the form following the task;
- ``starting``: Estimate and Start wired to the studio;
- ``job_panel``: the picked job's status, progress, loss and evaluation; Cancel, Resume, reload;
- ``adapter``: download, merge and compare a job's adapter;
- ``display``: how a job, an estimate and an answer are shown;
- ``api``: the endpoints for scripts.
"""

from __future__ import annotations

import gradio as gr

from studio import zero_gpu
from studio.train import service
from tabs.common import TabContext
from tabs.train.adapter import layout_adapter, wire_adapter
from tabs.train.api import register_api
from tabs.train.dataset import wire_dataset
from tabs.train.form import build_form
from tabs.train.job_panel import POLL_SECONDS, JobWatch, layout_jobs, wire_jobs
from tabs.train.runner import runner_for
from tabs.train.starting import wire_start

# Names other modules and tests import from ``tabs.train`` (as when it was one file).
from tabs.train.display import (  # noqa: F401,E402
    _shown_answer,
    estimate_markdown,
    evaluation_markdown,
    loss_frame,
    progress_html,
    status_markdown,
)
from tabs.train.runner import owner_of  # noqa: F401,E402


def build(ctx: TabContext) -> None:
    t, settings = ctx.t, ctx.settings
    runner = runner_for(ctx)
    with gr.Tab(t("train.tab"), id="train"):
        gr.Markdown(t("train.intro"))
        if not settings.training or zero_gpu.forks(settings):
            gr.Markdown(service.ZERO_GPU_REFUSAL if zero_gpu.forks(settings) else t("train.off"), elem_classes=["banner"])
        form = build_form(ctx)
        panel = layout_jobs(t)
        adapter_parts = layout_adapter(t)
        timer = gr.Timer(POLL_SECONDS, active=False)  # ticks only while the picked job is active
        watch = JobWatch(ctx, runner, panel, timer)
        wire_dataset(ctx, form)
        wire_start(ctx, runner, form, watch)
        wire_jobs(ctx, watch)
        wire_adapter(ctx, adapter_parts, panel.job, panel.status)
        register_api(ctx, runner)
