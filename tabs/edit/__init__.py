"""Edit tab: every edit tool (studio.tools, declared once) as a sub-tab of one tab.

One tab, because the tools share everything around the picture: the Image tab's model and
prompt (the tools' ``diffusion`` group, shown once), the progress / preview / Cancel column, and
the result, which goes straight into another sub-tab (outpaint again, inpaint the outpainted
picture, upscale the inpainted one). Each sub-tab, its API endpoint, its GPU estimate and its
"send to" target are made from the tool's declaration (tabs.tools): a new tool is a new module
in studio/image/edit/ and nothing here. The work is in ``studio.image.edit``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from studio import safety, tools
from studio.image import checkpoints, gpu_seconds
from studio.image.edit import upscaler
from studio.image.edit.work import Diffusion
from studio.pictures import outputs
from studio.pictures.reading import path_of
from studio.progress import CancelFlag, Finished, Progress, Stopped, task_events
from studio.runs import Run, Waiting
from studio.tools import Tool
from studio.tools.fields import fields_of
from tabs import owner, roles
from tabs.common import TabContext, cancellable_run, friendly, gpu_event, progress_update, wire_cancel
from tabs.gpu import GpuWork, event_alive, run_events
from tabs.tools import api_function, controls, group_request, request_of, text_of


def _answer(result) -> dict:
    return {"image": gr.FileData(path=result.path), **result.summary()}


def _details(result) -> str:
    lines = [f"**{result.tool}** · {result.image.width}×{result.image.height}"
             + (f" · seed {result.seed}" if result.seed is not None else "")
             + (f" · {result.steps_run} step(s)" if result.steps_run else "")]
    lines += [f"> {note}" for note in result.notes]
    return "\n\n".join(lines)


def build(ctx: TabContext) -> None:
    t, studio, settings = ctx.t, ctx.studio, ctx.settings
    edit_tools = tools.tools("edit")

    # --- the GPU's part: one function for every tool, plain values in and out ----------------

    def edit_on_gpu(tool: str, job: Any, folder: str, safe: bool, cancel: CancelFlag):
        """Run edit ``tool`` on ``job`` (its request dataclass): progress, previews, the result,
        screened before it is saved or shown when ``safe`` (studio.safety)."""
        run = tools.TOOLS[tool].run
        with safety.screening(studio, safe):
            yield from task_events(lambda task: run(studio, job, Path(folder), task), cancel, "studio-edit")

    def edit_work(named: dict[str, Any]) -> float:
        """GPU seconds of an edit (a ZeroGPU call asks for them up front), from its declared workload."""
        return gpu_seconds.seconds_of(tools.TOOLS[named["tool"]].workload(studio, named["job"]))

    editing = GpuWork(ctx, edit_on_gpu, edit_work)

    def student_load(tool: Tool, job: Any) -> Any:
        """What an edit draws, as a class's limits read it; None when the picture cannot be read
        (the tool then says so itself)."""
        try:
            return tool.workload(studio, job)
        except Exception:  # noqa: BLE001 - a bad picture is the tool's to refuse, with its own sentence
            return None

    def start_edit(tool: Tool, job: Any, folder: Path, request: gr.Request | None, key: str,
                   flag: CancelFlag | None = None) -> Run:
        rules = roles.limits_for(ctx, request)
        if rules is not None:  # a student: the class's limits, and the class's models
            rules.check_model(job.diffusion.checkpoint, checkpoints.offered(settings))
            if getattr(job, "upscaler", ""):
                rules.check_model(job.upscaler, upscaler.choices(settings))
            load = student_load(tool, job)
            if load is not None:
                rules.check_load(load)
        return editing.start(request, key, f"Edit: {tool.name}", tool.name, job, str(folder),
                             studio.class_rules.limits.safety, flag=flag)

    # --- API: one endpoint per tool, its parameters from the declaration ----------------------

    def api_runner(tool: Tool):
        def run(job: Any, request: gr.Request | None) -> dict:
            if tool.from_page is not None:
                job = tool.from_page(job)
            run_ = start_edit(tool, job, owner.folder_for(ctx, request), request, owner.key_for(ctx, request))
            return _answer(run_.result(event_alive()))

        return run

    # --- UI ------------------------------------------------------------------------------

    diffusion_fields = fields_of(Diffusion)
    forms: dict[str, dict[str, Any]] = {}
    buttons: dict[str, Any] = {}
    sub_tabs: dict[str, Any] = {}
    with gr.Tab(t("edit.tab"), id="edit"):
        gr.Markdown(t("edit.intro"))
        with gr.Row():
            with gr.Column(scale=3):
                with gr.Tabs() as edit_tabs:
                    for tool in edit_tools:
                        english = tool.name.capitalize()
                        with gr.Tab(text_of(ctx, f"edit.tab.{tool.name}", english), id=f"edit-{tool.name}") \
                                as sub_tabs[tool.name]:
                            forms[tool.name] = controls(ctx, tool.fields, f"edit-{tool.name}")
                            buttons[tool.name] = gr.Button(text_of(ctx, f"edit.run.{tool.name}", english),
                                                           variant="primary", elem_id=f"edit-{tool.name}-run")
                with gr.Accordion(t("edit.shared"), open=True):
                    shared = controls(ctx, diffusion_fields, "edit")
            with gr.Column(scale=2):
                cancel_button = gr.Button(t("edit.cancel"), variant="stop", elem_id="edit-cancel")
                status = gr.Markdown(elem_id="edit-status")
                preview = gr.Image(label=t("edit.preview"), interactive=False, height=200, elem_id="edit-preview")
                result_view = gr.Image(label=t("edit.result"), interactive=False, type="filepath", height=360,
                                       elem_id="edit-result")
                details = gr.Markdown(elem_id="edit-details")
                result_path = gr.State(None)
                result_tool = gr.State(None)
                again = gr.Button(t("edit.again"), visible=False, elem_id="edit-again")
                ctx.send_to.source(t("edit.send_picker"), t("edit.send"), result_path, "edit")

        for tool in edit_tools:
            ctx.send_to.register(f"edit-{tool.name}", text_of(ctx, f"edit.send_{tool.name}", f"Edit: {tool.name}"),
                                 forms[tool.name][tool.picture], "edit", inner=((edit_tabs, f"edit-{tool.name}"),))

        cancel_flag = gr.State(None)
        run_outputs = [status, preview, result_view, details, result_path, result_tool, again]

        def stream(tool: Tool, job: Any, values: dict, progress: Any, request: gr.Request | None):
            """Run ``tool`` on ``job``: its turn, progress, previews, Cancel, then the result."""
            say = t.for_request(request)
            folder = owner.folder_for(ctx, request, values[ctx.browser_id])
            run = start_edit(tool, job, folder, request, owner.key_for(ctx, request, values[ctx.browser_id]),
                             flag=values[cancel_flag])
            yield {status: say("edit.status_starting"), details: ""}
            for event in run_events(run):
                if isinstance(event, Waiting):
                    yield {status: say("app.waiting_turn").format(place=event.place)}
                elif isinstance(event, Progress):
                    yield progress_update(event, progress, status, preview, say=say)
                elif isinstance(event, Finished):
                    result = event.value
                    yield {status: say("edit.status_done").format(width=result.image.width,
                                                                  height=result.image.height),
                           result_view: result.path, details: _details(result), result_path: result.path,
                           result_tool: tool.name, preview: None, again: gr.update(visible=tool.again)}
                elif isinstance(event, Stopped):
                    yield {status: say("edit.status_cancelled")}

        def ui_runner(tool: Tool):
            form = forms[tool.name]

            def ui_run(values: dict, request: gr.Request = None, progress=gr.Progress()):
                diffusion = group_request(Diffusion, {name: values[c] for name, c in shared.items()})
                job = request_of(tool.request, {name: values[c] for name, c in form.items()},
                                 {"diffusion": diffusion}, settings)
                if tool.from_page is not None:
                    job = tool.from_page(job)
                yield from stream(tool, job, values, progress, request)

            ui_run.__name__ = f"ui_{tool.name}"
            return ui_run

        for tool in edit_tools:
            inputs = set(forms[tool.name].values()) | set(shared.values()) | {ctx.browser_id}
            cancellable_run(ctx, [buttons[tool.name].click], ui_runner(tool), inputs, run_outputs, cancel_flag,
                            status)
        wire_cancel(ctx, cancel_button, cancel_flag, status)

        # "Use the result again": into the tool that made it (extend again, upscale again...).
        pictures = [forms[tool.name][tool.picture] for tool in edit_tools]

        def use_again(path: str | None, made_by: str | None, request: gr.Request = None):
            if not path or made_by not in forms:
                raise gr.Error(t.for_request(request)("send.nothing"), print_exception=False)
            values = [path if tool.name == made_by else gr.update() for tool in edit_tools]
            return (*values, gr.Tabs(selected=f"edit-{made_by}"))

        again.click(friendly(use_again), [result_path, result_tool], [*pictures, edit_tabs], api_visibility="private")
        for tool in edit_tools:  # the button belongs to the sub-tab whose tool made the result
            sub_tabs[tool.name].select(
                lambda made_by, name=tool.name, shown=tool.again: gr.update(visible=shown and made_by == name),
                result_tool, again, api_visibility="private", show_progress="hidden")

        wire_choice_hints(ctx, edit_tools, forms)
        wire_made_with(ctx, pictures, shared)

        for tool in edit_tools:
            gr.api(friendly(api_function(tool, api_runner(tool), settings)), api_name=tool.name, **gpu_event(ctx))


def wire_choice_hints(ctx: TabContext, edit_tools: list[Tool], forms: dict[str, dict[str, Any]]) -> None:
    """A choice whose hint depends on it (the outpaint unit: pixels or percent) says the one picked."""
    for tool in edit_tools:
        for field in tool.fields:
            if field.kind != "choice" or field.spec.hint != "radio" or not field.spec.info:
                continue
            component = forms[tool.name][field.name]
            keys = {value: f"{field.spec.info}.{value}" for value in field.choices(ctx.settings)}

            def hint(chosen: str, request: gr.Request = None, keys: dict = keys, base: str = field.spec.info):
                say = ctx.t.for_request(request)
                key = keys.get(chosen, base)
                said = say(key)
                return gr.update(info=said if said != key else say(base))

            component.change(hint, component, component, api_visibility="private", show_progress="hidden")


def wire_made_with(ctx: TabContext, pictures: list[Any], shared: dict[str, Any]) -> None:
    """A picture made here (or by any A1111-style tool) brings its model and prompts along: the
    edit then redraws with the checkpoint it was made with (already in the cache)."""
    settings = ctx.settings
    checkpoint, prompt, negative = shared["checkpoint"], shared["prompt"], shared["negative_prompt"]
    default = checkpoints.offered(settings)[0]

    def made_with(value: Any, current_prompt: str, current_negative: str):
        path = path_of(value.get("background") if isinstance(value, dict) else value)
        if not path or not str(path).lower().endswith(".png"):
            return gr.update(), gr.update(), gr.update()
        try:
            found = outputs.read_request(Path(path))
        except Exception:  # no metadata, or a damaged file: the edit's own settings stay
            return gr.update(), gr.update(), gr.update()
        checkpoint_update = gr.update()
        if found.get("checkpoint") in checkpoints.offered(settings):
            checkpoint_update = gr.update(value=found["checkpoint"])
        elif "checkpoint" in found and not found["checkpoint"]:
            checkpoint_update = gr.update(value=default)
        prompt_update = gr.update(value=found["prompt"]) if found.get("prompt") and not current_prompt else gr.update()
        negative_update = (gr.update(value=found["negative_prompt"])
                           if found.get("negative_prompt") and not current_negative else gr.update())
        return checkpoint_update, prompt_update, negative_update

    for picture in pictures:
        picture.change(made_with, [picture, prompt, negative], [checkpoint, prompt, negative],
                       api_visibility="private", show_progress="hidden")
