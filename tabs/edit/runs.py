"""A tool's run from the page: the request its controls make, its turn, progress, previews,
Cancel, then the result in the column beside the sub-tabs."""

from __future__ import annotations

from typing import Any

import gradio as gr

from studio.image.edit.results import EditResult
from studio.image.edit.work import Diffusion
from studio.progress import Finished, Progress, Stopped
from studio.runs import Waiting
from studio.tools import Tool
from tabs import owner
from tabs.common import TabContext, cancellable_run, progress_update, wire_cancel
from tabs.edit.layout import EditPage
from tabs.edit.work import EditWork
from tabs.gpu import run_events
from tabs.tools import group_request, inputs_of, request_of, values_of


def details_markdown(result: EditResult) -> str:
    lines = [f"**{result.tool}** · {result.image.width}×{result.image.height}"
             + (f" · seed {result.seed}" if result.seed is not None else "")
             + (f" · {result.steps_run} step(s)" if result.steps_run else "")]
    lines += [f"> {note}" for note in result.notes]
    return "\n\n".join(lines)


def wire_runs(ctx: TabContext, work: EditWork, page: EditPage, edit_tools: list[Tool]) -> None:
    """Each tool's button starts its run; Cancel stops whichever is going."""
    t, p = ctx.t, page

    def stream(tool: Tool, job: Any, values: dict, progress: gr.Progress, request: gr.Request | None):
        say = t.for_request(request)
        folder = owner.folder_for(ctx, request, values[ctx.browser_id])
        run = work.start(tool, job, folder, request, owner.key_for(ctx, request, values[ctx.browser_id]),
                         flag=values[p.cancel_flag])
        yield {p.status: say("edit.status_starting"), p.details: ""}
        for event in run_events(run):
            if isinstance(event, Waiting):
                yield {p.status: say("app.waiting_turn").format(place=event.place)}
            elif isinstance(event, Progress):
                yield progress_update(event, progress, p.status, p.preview, say=say)
            elif isinstance(event, Finished):
                result = event.value
                yield {p.status: say("edit.status_done").format(width=result.image.width, height=result.image.height),
                       p.result_view: result.path, p.details: details_markdown(result), p.result_path: result.path,
                       p.result_tool: tool.name, p.preview: None, p.again: gr.update(visible=tool.again)}
            elif isinstance(event, Stopped):
                yield {p.status: say("edit.status_cancelled")}

    def ui_runner(tool: Tool):
        form = p.forms[tool.name]

        def ui_run(values: dict, request: gr.Request = None, progress=gr.Progress()):
            diffusion = group_request(Diffusion, values_of(p.shared, values))
            job = request_of(tool.request, values_of(form, values), {"diffusion": diffusion}, ctx.settings)
            if tool.from_page is not None:
                job = tool.from_page(job)
            yield from stream(tool, job, values, progress, request)

        ui_run.__name__ = f"ui_{tool.name}"
        return ui_run

    for tool in edit_tools:
        inputs = inputs_of(p.forms[tool.name]) | inputs_of(p.shared) | {ctx.browser_id}
        cancellable_run(ctx, [p.buttons[tool.name].click], ui_runner(tool), inputs, p.run_outputs, p.cancel_flag,
                        p.status)
    wire_cancel(ctx, p.cancel_button, p.cancel_flag, p.status)
