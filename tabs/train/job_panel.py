"""The picked job, watched: its status line, progress bar, loss curve and evaluation, polled by a
timer while it runs; Cancel and Resume; after a reload, this browser's newest job picked again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import gradio as gr

from studio import jobs
from studio.train import service
from studio.train.runner import Runner
from tabs.common import TabContext, friendly
from tabs.i18n import Translator
from tabs.train.display import evaluation_markdown, loss_frame, progress_html, status_markdown
from tabs.train.runner import owner_of

POLL_SECONDS = 1.0


@dataclass
class JobPanel:
    job: gr.Dropdown
    cancel_button: gr.Button
    resume_button: gr.Button
    status: gr.Markdown
    progress: gr.HTML
    plot: gr.LinePlot
    evaluation: gr.Markdown


def layout_jobs(t: Translator) -> JobPanel:
    with gr.Row():
        job = gr.Dropdown([], label=t("train.jobs"), elem_id="train-job", scale=3)
        cancel_button = gr.Button(t("train.cancel"), variant="stop", scale=1, elem_id="train-cancel")
        resume_button = gr.Button(t("train.resume"), scale=1, elem_id="train-resume")
    job_status = gr.Markdown(elem_id="train-status")
    progress = gr.HTML(elem_id="train-progress")
    plot = gr.LinePlot(loss_frame({}), x="step", y="loss", label=t("train.loss"), elem_id="train-loss", height=320,
                       x_title="step", y_title="loss")  # 260 px cut the axis titles off
    evaluation = gr.Markdown(elem_id="train-eval")
    return JobPanel(job, cancel_button, resume_button, job_status, progress, plot, evaluation)


class JobWatch:
    """What the panel shows of a job, for every event that changes or re-reads it."""

    def __init__(self, ctx: TabContext, runner: Runner, panel: JobPanel, timer: gr.Timer):
        self.ctx, self.runner, self.panel, self.timer = ctx, runner, panel, timer
        self.outputs = [panel.status, panel.progress, panel.plot, panel.evaluation, timer]

    def job_choices(self, owner: str) -> list[tuple[str, str]]:
        # No state in the label: it changes while the list stays put; the status line shows it.
        return [(f"{j['name']} · {j['task']} · {j['base_model']}", j["job_id"])
                for j in service.list_jobs(self.ctx.settings, owner)]

    def view(self, job_id: str | None, browser_id: str, request: gr.Request | None):
        if not job_id:
            return "", progress_html({}), loss_frame({}), "", gr.Timer(active=False)
        info = service.status(self.ctx.settings, self.runner, owner_of(self.ctx, request, browser_id), job_id)
        active = info["state"] in jobs.ACTIVE
        return (status_markdown(info, self.ctx.t.for_request(request)), progress_html(info), loss_frame(info),
                evaluation_markdown(info.get("evaluation")),
                gr.Timer(active=active))


def wire_jobs(ctx: TabContext, watch: JobWatch) -> None:
    t, settings, runner, panel = ctx.t, ctx.settings, watch.runner, watch.panel
    view, view_outputs, job = watch.view, watch.outputs, panel.job
    job.change(friendly(view), [job, ctx.browser_id], view_outputs, api_visibility="private", show_progress="hidden")

    def poll(job_id: str | None, browser_id: str, request: gr.Request = None):
        """A tick: the timer itself is left alone while the job runs (re-sending it on every
        tick restarted it, and the page flickered)."""
        *shown, timer_update = view(job_id, browser_id, request)
        return (*shown, timer_update if not timer_update.active else gr.update())

    watch.timer.tick(friendly(poll), [job, ctx.browser_id], view_outputs, api_visibility="private",
                     show_progress="hidden")

    def on_the_picked_job(act: Callable[..., object]) -> Callable[..., None]:
        """A button's work (``service.cancel`` or ``service.resume``) on the picked job; none picked is refused."""

        def ui_act(job_id: str, browser_id: str, request: gr.Request = None) -> None:
            if not job_id:
                raise gr.Error(t.for_request(request)("train.pick_job"), print_exception=False)
            act(settings, runner, owner_of(ctx, request, browser_id), job_id)

        return ui_act

    # A refusal ("this job is done: only an interrupted... can be resumed") is a pop-up only: the
    # panel is redrawn after the button's work succeeds, so its plot never turns into error badges.
    for button, act in ((panel.cancel_button, service.cancel), (panel.resume_button, service.resume)):
        button.click(friendly(on_the_picked_job(act)), [job, ctx.browser_id], None, api_visibility="private").success(
            friendly(view), [job, ctx.browser_id], view_outputs, api_visibility="private", show_progress="hidden")

    def on_load(browser_id: str, request: gr.Request = None):
        """After a reload: this browser's jobs, the newest selected and watched again."""
        choices = watch.job_choices(owner_of(ctx, request, browser_id))
        newest = choices[0][1] if choices else None
        return gr.update(choices=choices, value=newest)

    ctx.after_load.append((friendly(on_load), [job]))
