"""The Train tab's endpoints for scripts: self-explaining parameters, the same studio functions
as the page (estimate, start, status, cancel, resume, the list of your jobs)."""

from __future__ import annotations

import gradio as gr

from studio.pictures.reading import path_of
from studio.train import service
from studio.train.runner import Runner
from tabs import api_types
from tabs.common import TabContext, friendly
from tabs.train.runner import class_limits, owner_of


def register_api(ctx: TabContext, runner: Runner) -> None:
    settings = ctx.settings

    def train_estimate(task: api_types.TrainTask = "causal_lm", base_model: str = "", settings: dict | None = None) -> dict:
        """Trainable parameters, total, percentage and a memory estimate (GB) for LoRA on
        `base_model` ('' = the task's default), from its config only (no weights loaded).
        task: causal_lm | classification. settings: r, alpha, dropout, target_modules,
        batch_size, cutoff_len, precision, gradient_checkpointing, ..."""
        return service.estimate(ctx.settings, task, base_model, settings)

    def train_start(task: api_types.TrainTask = "causal_lm", dataset: gr.FileData | None = None, base_model: str = "",
                    settings: dict | None = None, adapter_name: str = "", request: gr.Request = None) -> dict:
        """Queue a LoRA job; returns its job_id. dataset: CSV / JSON / JSONL / TXT (None = the
        task's sample). settings: r, alpha, dropout, target_modules, learning_rate, epochs,
        max_steps, batch_size, grad_accumulation, warmup_steps, scheduler, precision,
        gradient_checkpointing, seed, save_every, first_rows, cutoff_len, prompt_column,
        response_column, template, train_on_responses_only, text_column, label_column, held_out."""
        path = path_of(dataset) or service.SAMPLES.get(task)
        owner = owner_of(ctx, request)
        job_id = service.start(ctx.settings, runner, owner, task, path, settings, base_model, adapter_name,
                               class_limits(ctx, request, task, base_model))
        return service.status(ctx.settings, runner, owner, job_id)

    def train_status(job_id: str, request: gr.Request = None) -> dict:
        """A job's state (queued | running | done | failed | cancelled | interrupted), step,
        total_steps, loss, loss_history [{step, loss}], queue_position, adapter_path, evaluation."""
        return service.status(settings, runner, owner_of(ctx, request), job_id)

    def train_cancel(job_id: str, request: gr.Request = None) -> dict:
        """Cancel a queued or running job; its last checkpoint stays and can be resumed."""
        return service.cancel(settings, runner, owner_of(ctx, request), job_id)

    def train_resume(job_id: str, request: gr.Request = None) -> dict:
        """Resume an interrupted, cancelled or failed job from its last checkpoint."""
        return service.resume(settings, runner, owner_of(ctx, request), job_id)

    def train_jobs(request: gr.Request = None) -> list:
        """Your training jobs, newest first."""
        return service.list_jobs(settings, owner_of(ctx, request))

    gr.api(friendly(train_estimate), api_name="train_estimate")
    gr.api(friendly(train_start), api_name="train_start")
    gr.api(friendly(train_status), api_name="train_status")
    gr.api(friendly(train_cancel), api_name="train_cancel")
    gr.api(friendly(train_resume), api_name="train_resume")
    gr.api(friendly(train_jobs), api_name="train_jobs")
