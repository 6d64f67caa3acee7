"""The Image tab's X/Y/Z grid: up to three axes over the form's own settings, every combination
drawn, one labelled picture (studio.image.grid). The same GPU path as a generation: plain values
in and out, its turn in the fair queue, a class's limits, Cancel between and within cells."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import gradio as gr

from studio import safety
from studio.image import checkpoints, gpu_seconds
from studio.image.grid import KINDS, Axis, GridRequest, draw_grid, grid_workload
from studio.pictures import outputs
from studio.progress import CancelFlag, Delivered, Finished, Progress, Stopped, task_events
from studio.runs import Run, Waiting
from tabs import api_types, owner, roles
from tabs.common import TabContext, cancellable_run, progress_update, wire_cancel
from tabs.gpu import GpuWork, event_alive, run_events
from tabs.image.form import ImageForm
from tabs.image.generation import request_from
from tabs.tools import text_of

if TYPE_CHECKING:
    from studio.image.request import ImageRequest

POSITIONS = ("x", "y", "z")
NONE = ""  # an axis left unused


class GridWork:
    def __init__(self, ctx: TabContext):
        self.ctx = ctx
        studio = ctx.studio

        def grid_on_gpu(grid: GridRequest, folder: str, key: str, safe: bool, cancel: CancelFlag):
            """Every cell, then the grid: the cells as they are done, the grid's result at the end."""
            with safety.screening(studio, safe):
                yield from task_events(lambda task: draw_grid(studio, grid, Path(folder), task, owner=key), cancel,
                                       "studio-grid")

        def grid_work(named: dict[str, Any]) -> float:
            return gpu_seconds.seconds_of(grid_workload(studio, named["grid"]))

        self.drawing = GpuWork(ctx, grid_on_gpu, grid_work)

    def start(self, grid: GridRequest, folder: Path, request: gr.Request | None, key: str,
              flag: CancelFlag | None = None) -> Run:
        ctx = self.ctx
        rules = roles.limits_for(ctx, request)
        if rules is not None:  # a student: every cell counts in the class's limits
            rules.check_load(grid_workload(ctx.studio, grid))
            offered = checkpoints.offered(ctx.settings)
            for axis in (grid.x, grid.y, grid.z):
                if axis.kind == "checkpoint":
                    for name in axis.values.split(","):
                        rules.check_model(name.strip(), offered)
        what = f"X/Y/Z grid: {grid.base.prompt[:30]!r}"
        return self.drawing.start(request, key, what, grid, str(folder), key, ctx.studio.class_rules.limits.safety,
                                  flag=flag)


def build_grid(ctx: TabContext) -> dict[str, Any]:
    """The grid's controls (inside the Image tab's left column)."""
    t = ctx.t
    choices = [(text_of(ctx, "image.grid_none", "—"), NONE)] + \
        [(text_of(ctx, f"image.grid_kind.{name}", kind.title), name) for name, kind in KINDS.items()]
    made: dict[str, Any] = {}
    with gr.Accordion(t("image.grid"), open=False, elem_id="image-grid"):
        gr.Markdown(t("image.grid_info"))
        for position in POSITIONS:
            with gr.Row():
                made[f"{position}_type"] = gr.Dropdown(choices, value=NONE, label=f"{position.upper()}", scale=1,
                                                       elem_id=f"image-grid-{position}-type")
                made[f"{position}_values"] = gr.Textbox(label=t("image.grid_values"), scale=3,
                                                        elem_id=f"image-grid-{position}-values")
        with gr.Row():
            made["run"] = gr.Button(t("image.grid_run"), variant="primary", elem_id="image-grid-run")
            made["cancel"] = gr.Button(t("image.cancel"), variant="stop", elem_id="image-grid-cancel")
        made["status"] = gr.Markdown(elem_id="image-grid-status")
        made["picture"] = gr.Image(label=t("image.grid_picture"), interactive=False, type="filepath",
                                   elem_id="image-grid-picture")
        made["flag"] = gr.State(None)
    return made


def grid_request(base: ImageRequest, named: dict[str, Any]) -> GridRequest:
    return GridRequest(base, *(Axis(named.get(f"{p}_type") or "", named.get(f"{p}_values") or "") for p in POSITIONS))


def wire_grid(ctx: TabContext, work: GridWork, form: ImageForm, grid: dict[str, Any]) -> None:
    t, settings = ctx.t, ctx.settings
    status, picture = grid["status"], grid["picture"]

    def placeholder(kind: str):
        return gr.update(placeholder=KINDS[kind].example if kind in KINDS else "")

    for position in POSITIONS:
        grid[f"{position}_type"].change(placeholder, grid[f"{position}_type"], grid[f"{position}_values"],
                                        api_visibility="private", show_progress="hidden")

    def ui_grid(values: dict, request: gr.Request = None, progress=gr.Progress()):
        say = t.for_request(request)
        key = owner.key_for(ctx, request, values[ctx.browser_id])
        folder = owner.folder_for(ctx, request, values[ctx.browser_id])
        named = {name: values[component] for name, component in grid.items() if component in values}
        run = work.start(grid_request(request_from(form, values, settings), named), folder, request, key,
                         flag=values[grid["flag"]])
        count = 0
        yield {status: say("image.status_starting"), picture: None}
        for event in run_events(run):
            if isinstance(event, Waiting):
                yield {status: say("app.waiting_turn").format(place=event.place)}
            elif isinstance(event, Progress):
                yield progress_update(event, progress, status, form.preview, say=say)
            elif isinstance(event, Delivered):
                count += 1
            elif isinstance(event, Finished):
                yield {status: say("image.grid_done").format(count=count), picture: event.value.path,
                       form.history: outputs.history(folder)}
            elif isinstance(event, Stopped):
                yield {status: say("image.status_cancelled").format(count=count), form.history: outputs.history(folder)}

    inputs = set(form.fields.values()) | set(form.lora_names) | set(form.lora_weights) | \
        set(form.prompt_panel.inputs) | {ctx.browser_id} | {grid[f"{p}_{part}"] for p in POSITIONS
                                                             for part in ("type", "values")}
    cancellable_run(ctx, [grid["run"].click], ui_grid, inputs, [status, picture, form.preview, form.history],
                    grid["flag"], status)
    wire_cancel(ctx, grid["cancel"], grid["flag"], status)


def grid_endpoint(ctx: TabContext, work: GridWork, generate_image: Callable[..., dict]) -> Callable[..., dict]:
    """/xyz_grid: the three axes, then /generate_image's own picture settings (one declaration)."""
    from tabs.image.generation import base_request, image_parameters

    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    axes = [inspect.Parameter("x_type", positional, default="steps", annotation=api_types.GridAxis),
            inspect.Parameter("x_values", positional, default="10, 20", annotation=str)]
    for position in ("y", "z"):
        axes += [inspect.Parameter(f"{position}_type", positional, default="", annotation=api_types.GridAxis),
                 inspect.Parameter(f"{position}_values", positional, default="", annotation=str)]
    request_parameter = inspect.Parameter("request", positional, default=None, annotation=gr.Request)
    settings = [p if p.default is not inspect.Parameter.empty else p.replace(default="")  # after the axes' defaults
                for p in image_parameters(generate_image)]
    signature = inspect.Signature([*axes, *settings, request_parameter], return_annotation=dict)

    def xyz_grid(*args: Any, **kwargs: Any) -> dict:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        named = dict(bound.arguments)
        request = named.pop("request")
        grid = grid_request(base_request(ctx, named), named)
        run = work.start(grid, owner.folder_for(ctx, request), request, owner.key_for(ctx, request))
        result = run.result(event_alive())
        return {"image": gr.FileData(path=result.path), **result.summary()}

    xyz_grid.__doc__ = (
        "Draw every combination of up to three axes over the picture's settings (the same as /generate_image's): "
        "x_type / y_type / z_type one of " + ", ".join(KINDS) + " ('' = unused); values as A1111 lets one type "
        "them ('10, 20, 30', '1-10 (+3)', '0.5-1.5 [3]'; prompt_sr: the first is searched in the prompt and "
        "replaced by each in turn). Returns the labelled grid picture and every cell with its metadata.")
    xyz_grid.__signature__ = signature  # type: ignore[attr-defined]
    xyz_grid.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()} | {"return": dict}
    return xyz_grid
