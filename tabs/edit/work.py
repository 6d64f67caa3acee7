"""The Edit tab's GPU work: one function for every declared tool, plain values in and out, and
how a run of it starts (a student's limits checked first)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from studio import safety, tools
from studio.image import checkpoints, gpu_seconds
from studio.image.edit import upscaler
from studio.image.edit.results import EditResult
from studio.image.gpu_seconds import Workload
from studio.progress import CancelFlag, task_events
from studio.runs import Run
from studio.tools import Tool
from tabs import owner, roles
from tabs.common import TabContext
from tabs.gpu import GpuWork, event_alive


class EditWork:
    def __init__(self, ctx: TabContext):
        self.ctx = ctx
        studio = ctx.studio

        def edit_on_gpu(tool: str, job: Any, folder: str, safe: bool, cancel: CancelFlag):
            """Run edit ``tool`` on ``job`` (its request dataclass): progress, previews, the result,
            screened before it is saved or shown when ``safe`` (studio.safety)."""
            run = tools.TOOLS[tool].run
            with safety.screening(studio, safe):
                yield from task_events(lambda task: run(studio, job, Path(folder), task), cancel, "studio-edit")

        def edit_work(named: dict[str, Any]) -> float:
            """GPU seconds of an edit (a ZeroGPU call asks for them up front), from its declared workload."""
            return gpu_seconds.seconds_of(tools.TOOLS[named["tool"]].workload(studio, named["job"]))

        self.editing = GpuWork(ctx, edit_on_gpu, edit_work)

    def student_load(self, tool: Tool, job: Any) -> Workload | None:
        """What an edit draws, as a class's limits read it; None when the picture cannot be read
        (the tool then says so itself)."""
        try:
            return tool.workload(self.ctx.studio, job)
        except Exception:  # noqa: BLE001 - a bad picture is the tool's to refuse, with its own sentence
            return None

    def start(self, tool: Tool, job: Any, folder: Path, request: gr.Request | None, key: str,
              flag: CancelFlag | None = None) -> Run:
        ctx, settings = self.ctx, self.ctx.settings
        rules = roles.limits_for(ctx, request)
        if rules is not None:  # a student: the class's limits, and the class's models
            rules.check_model(job.diffusion.checkpoint, checkpoints.offered(settings))
            if getattr(job, "upscaler", ""):
                rules.check_model(job.upscaler, upscaler.choices(settings))
            load = self.student_load(tool, job)
            if load is not None:
                rules.check_load(load)
        return self.editing.start(request, key, f"Edit: {tool.name}", tool.name, job, str(folder),
                                  ctx.studio.class_rules.limits.safety, flag=flag)

    def api_runner(self, tool: Tool):
        """``run(job, request)`` for the tool's API endpoint (tabs.tools.api_function): the saved result."""
        ctx = self.ctx

        def run(job: Any, request: gr.Request | None) -> dict:
            if tool.from_page is not None:
                job = tool.from_page(job)
            started = self.start(tool, job, owner.folder_for(ctx, request), request, owner.key_for(ctx, request))
            return answer(started.result(event_alive()))

        return run


def answer(result: EditResult) -> dict:
    return {"image": gr.FileData(path=result.path), **result.summary()}
