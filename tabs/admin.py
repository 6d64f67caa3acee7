"""Teacher tab (shown to the teacher only): who runs what, the queue with each student's place,
each student's usage, the GPU's memory, Cancel for any run or training job, and the class's
limits. Every action here is refused to a student, in the API too (tabs.roles)."""

from __future__ import annotations

from typing import Any, Callable

import gradio as gr

from studio import cache_report, jobs
from studio.class_rules import BOUNDS
from tabs import roles
from tabs.common import TabContext, friendly
from tabs.models import memory_html

REFRESH_SECONDS = 2.0
LIMIT_FIELDS = ("runs", "images", "megapixels", "steps", "train_steps", "train_jobs")


def _runs_table(snapshot: dict, say: Callable[[str], str]) -> dict:
    rows = [[run["id"], run["who"], run["what"], say("admin.state.running"), "", run["seconds"]]
            for run in snapshot["running"]]
    rows += [[run["id"], run["who"], run["what"], say("admin.state.waiting"), run["place"], run["seconds"]]
             for run in snapshot["waiting"]]
    headers = [say(f"admin.col.{name}") for name in ("id", "who", "what", "state", "place", "seconds")]
    return {"headers": headers, "data": rows}


def _usage_table(snapshot: dict, say: Callable[[str], str]) -> dict:
    rows = [[owner[:24], used["runs"], round(used["gpu_seconds"], 1), used["images"], used["refused"]]
            for owner, used in sorted(snapshot["usage"].items(), key=lambda pair: -pair[1]["gpu_seconds"])]
    headers = [say(f"admin.col.{name}") for name in ("owner", "runs", "gpu_seconds", "images", "refused")]
    return {"headers": headers, "data": rows}


class ClassApi:
    """The teacher's endpoints (/class_status, /class_cancel, /class_limits), which the Teacher
    tab's buttons call too."""

    def __init__(self, ctx: TabContext):
        self.ctx = ctx
        self._runner = None  # the Train tab's (one per app), found when first needed

    def training_runner(self):
        if self._runner is None:
            from tabs.train import runner_for

            self._runner = runner_for(self.ctx)
        return self._runner

    def active_jobs(self) -> list[dict]:
        found = []
        for folder in jobs.all_jobs(self.ctx.settings.outputs):
            info = jobs.summary(folder)
            if info["state"] in jobs.ACTIVE:
                found.append({"owner": folder.parent.name, "job_id": folder.name, "state": info["state"],
                              "step": info.get("step"), "total_steps": info.get("total_steps")})
        return found

    def endpoints(self) -> dict:
        ctx, studio = self.ctx, self.ctx.studio

        def class_status(request: gr.Request = None) -> dict:
            """The class now: runs going and waiting (with each student's place), each student's usage,
            training jobs, the GPU's memory and the limits in force. The teacher's only."""
            roles.require_teacher(ctx, request, "roles.see_class")
            return {"queue": studio.gpu_queue.snapshot(), "training": self.active_jobs(),
                    "memory": cache_report.status(studio)["memory_bars"],
                    "limits": studio.class_rules.limits.as_dict()}

        def class_cancel(run_id: int = -1, job_id: str = "", request: gr.Request = None) -> dict:
            """Cancel anyone's run (its id in class_status) or training job (owner/job id). The teacher's only."""
            roles.require_teacher(ctx, request, "roles.cancel_others")
            said = {}
            if run_id is not None and int(run_id) >= 0:
                said["run"] = studio.gpu_queue.stop(int(run_id))
            if job_id:
                owner, _, job = str(job_id).partition("/")
                folder = jobs.job_dir(ctx.settings.outputs, owner, job)
                said["job"] = self.training_runner().cancel(folder).get("state")
            return said

        def class_limits(changes: dict | None = None, request: gr.Request = None) -> dict:
            """Change the class's limits (runs, images, megapixels, steps, train_steps, train_jobs,
            safety, allowed_models); returns those in force. The teacher's only."""
            roles.require_teacher(ctx, request, "roles.set_limits")
            return studio.class_rules.update(**(changes or {})).as_dict()

        return {"class_status": class_status, "class_cancel": class_cancel, "class_limits": class_limits}


def build(ctx: TabContext) -> None:
    t, studio = ctx.t, ctx.studio
    api = ClassApi(ctx)
    endpoints = api.endpoints()
    class_cancel, class_limits = endpoints["class_cancel"], endpoints["class_limits"]

    # --- the page -------------------------------------------------------------------------

    limits = studio.class_rules.limits
    with gr.Tab(t("admin.tab"), id="admin", visible=False) as tab:
        gr.Markdown(t("admin.intro"))
        password_note = gr.Markdown(elem_id="admin-password")
        memory = gr.HTML(elem_id="admin-memory")
        runs = gr.Dataframe(label=t("admin.runs"), interactive=False, elem_id="admin-runs")
        with gr.Row():
            run_id = gr.Dropdown([], label=t("admin.run_id"), scale=3, elem_id="admin-run-id")
            cancel_run = gr.Button(t("admin.cancel_run"), variant="stop", scale=1, elem_id="admin-cancel-run")
        training = gr.Dataframe(label=t("admin.training"), interactive=False, elem_id="admin-training")
        with gr.Row():
            job_id = gr.Textbox(label=t("admin.job_id"), info=t("admin.job_id_info"), scale=2)
            cancel_job = gr.Button(t("admin.cancel_job"), variant="stop", scale=1)
        usage = gr.Dataframe(label=t("admin.usage"), interactive=False, elem_id="admin-usage")
        said = gr.Markdown(elem_id="admin-said")
        with gr.Accordion(t("admin.limits"), open=True):
            with gr.Row():
                fields = {name: gr.Number(getattr(limits, name), label=t(f"admin.limit.{name}"),
                                          minimum=BOUNDS[name][0], maximum=BOUNDS[name][1],
                                          elem_id=f"admin-limit-{name}")
                          for name in LIMIT_FIELDS}
            safety = gr.Checkbox(limits.safety, label=t("admin.limit.safety"), info=t("admin.limit.safety_info"),
                                 elem_id="admin-limit-safety")
            allowed = gr.Textbox("\n".join(limits.allowed_models), lines=2, label=t("admin.limit.allowed_models"),
                                 info=t("admin.limit.allowed_models_info"))
            save_limits = gr.Button(t("admin.save_limits"), variant="primary", elem_id="admin-save-limits")
        timer = gr.Timer(REFRESH_SECONDS, active=False)

    def view(request: gr.Request = None):
        if not roles.is_teacher(ctx, request):
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        say = t.for_request(request)
        snapshot = studio.gpu_queue.snapshot()
        training_rows = [[f"{j['owner']}/{j['job_id']}", j["state"], f"{j['step'] or 0} / {j['total_steps'] or '?'}"]
                         for j in api.active_jobs()]
        training_table = {"headers": [say("admin.col.job"), say("admin.col.state"), say("admin.col.step")],
                          "data": training_rows}
        bars = memory_html(cache_report.status(studio)["memory_bars"], say)
        choices = [(f"#{run['id']} {run['who']} · {run['what']}", run["id"])
                   for run in snapshot["running"] + snapshot["waiting"]]
        return (_runs_table(snapshot, say), training_table, _usage_table(snapshot, say), bars,
                gr.update(choices=choices), gr.skip())

    outputs = [runs, training, usage, memory, run_id, said]

    def on_load(_browser_id: str, request: gr.Request = None):
        """The tab shows to the teacher only; the class password is said there."""
        if not roles.is_teacher(ctx, request):
            return gr.Tab(visible=False), "", gr.Timer(active=False)
        say = t.for_request(request)
        password = ctx.settings.class_password
        note = say("admin.class_password").format(password=password) if password else ""
        return gr.Tab(visible=True), note, gr.Timer(active=True)

    ctx.after_load.append((friendly(on_load), [tab, password_note, timer]))
    timer.tick(friendly(view), None, outputs, api_visibility="private", show_progress="hidden")

    def ui_cancel_run(picked: int | None, request: gr.Request = None):
        say = t.for_request(request)
        done = class_cancel(int(picked) if picked is not None else -1, "", request).get("run")
        return (*view(request)[:5], say("admin.cancelled_run" if done else "admin.no_such_run"))

    def ui_cancel_job(value: str, request: gr.Request = None):
        say = t.for_request(request)
        state = class_cancel(-1, (value or "").strip(), request).get("job")
        return (*view(request)[:5], say("admin.cancelled_job").format(state=state))

    def ui_save_limits(*values: Any, request: gr.Request = None):
        say = t.for_request(request)
        *numbers, safe, models = values
        changes = dict(zip(LIMIT_FIELDS, numbers), safety=bool(safe),
                       allowed_models=[line.strip() for line in (models or "").splitlines() if line.strip()])
        class_limits(changes, request)
        return say("admin.limits_saved")

    cancel_run.click(friendly(ui_cancel_run), run_id, outputs, api_visibility="private")
    cancel_job.click(friendly(ui_cancel_job), job_id, outputs, api_visibility="private")
    save_limits.click(friendly(ui_save_limits), [*fields.values(), safety, allowed], said, api_visibility="private")
    with tab:  # an endpoint is a block: inside the tab, never loose among the tabs
        for name, endpoint in endpoints.items():
            gr.api(friendly(endpoint), api_name=name)
