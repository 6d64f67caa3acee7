"""The app's one training runner, whose job is whose, and a student's limits on a new job."""

from __future__ import annotations

import gradio as gr

from studio import jobs
from studio.train import service
from studio.train.memory import JobMemory
from studio.train.runner import Runner
from tabs import owner, roles
from tabs.common import TabContext


def runner_for(ctx: TabContext) -> Runner:
    """One runner per app (kept on the studio context, never in a module global)."""
    runner = getattr(ctx.studio, "train_runner", None)
    if runner is None:
        runner = Runner(ctx.settings.outputs, memory=JobMemory(ctx.studio)).start()
        ctx.studio.train_runner = runner
    return runner


def owner_of(ctx: TabContext, request: gr.Request | None, browser_id: str | None = None) -> str:
    return jobs.owner_name(owner.user_of(ctx, request), browser_id, getattr(request, "session_hash", None))


def class_limits(ctx: TabContext, request: gr.Request | None, task: str, base_model: str):
    """A student's limits on a job (steps, jobs at once, the base models offered), or None."""
    rules = roles.limits_for(ctx, request)
    if rules is not None:
        rules.check_model(base_model, service.base_models(ctx.settings, task))
    return rules
