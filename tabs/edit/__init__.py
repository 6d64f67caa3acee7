"""Edit tab: Upscale / Vary, Inpaint and Outpaint, as three sub-tabs of one tab.

One tab, because the three share everything around the picture: the Image tab's model and
prompt, the progress / preview / Cancel column, and the result, which goes straight into
another sub-tab (outpaint again, inpaint the outpainted picture, upscale the inpainted one).
Only components and wiring here: the work is in ``studio.image.edit``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from studio import safety
from studio.image import checkpoints, gpu_seconds
from studio.image.edit import images, inpaint, masks, outpaint, upscale, upscaler, vary
from studio.image.edit.work import Diffusion
from studio.image.request import MAX_STEPS
from studio.pictures import outputs
from studio.pictures.reading import path_of
from studio.progress import CancelFlag, Finished, Progress, Stopped, task_events
from studio.runs import Run, Waiting
from tabs import api_types, owner, roles
from tabs.common import (
    TabContext, cancellable_run, friendly, gpu_event, progress_update,
    uploaded, wire_cancel,
)
from tabs.gpu import GpuWork, event_alive, run_events

UPSCALE_OR_VARY = list(upscale.MODES) + list(vary.STRENGTHS)
# Each edit tool's studio function, by the name its GPU calls carry (a plain string crosses a fork).
TOOLS = {"upscale": upscale.upscale, "vary": vary.vary, "inpaint": inpaint.inpaint, "outpaint": outpaint.outpaint}
DEFAULT_MODE = upscale.FAST_2X  # the sub-tab is "Upscale / Vary": it opens on an upscale


def _steps(value: Any) -> Any:
    return None if value in (None, "", 0) else int(round(float(value)))


def _diffusion(prompt: str, negative_prompt: str, checkpoint: str, seed: Any, steps: Any) -> Diffusion:
    return Diffusion(prompt=prompt or "", negative_prompt=negative_prompt or "", checkpoint=checkpoint or "",
                     seed=-1 if seed in (None, "") else seed, steps=_steps(steps))


def _answer(result) -> dict:
    return {"image": gr.FileData(path=result.path), **result.summary()}


def _editor_parts(value: Any) -> tuple[Any, list]:
    """The picture and the brush layers of a gr.ImageEditor value."""
    if not isinstance(value, dict):
        return value, []
    return value.get("background"), [layer for layer in value.get("layers") or [] if layer is not None]


def _details(result) -> str:
    lines = [f"**{result.tool}** · {result.image.width}×{result.image.height}"
             + (f" · seed {result.seed}" if result.seed is not None else "")
             + (f" · {result.steps_run} step(s)" if result.steps_run else "")]
    lines += [f"> {note}" for note in result.notes]
    return "\n\n".join(lines)


def build(ctx: TabContext) -> None:
    t, studio, settings = ctx.t, ctx.studio, ctx.settings
    checkpoint_choices = checkpoints.offered(settings)
    upscaler_choices = upscaler.choices(settings)

    # --- the GPU's part: one function for every tool, plain values in and out ----------------

    def edit_on_gpu(tool: str, job: Any, folder: str, safe: bool, cancel: CancelFlag):
        """Run edit ``tool`` on ``job`` (its request dataclass): progress, previews, the result,
        screened before it is saved or shown when ``safe`` (studio.safety)."""
        with safety.screening(studio, safe):
            yield from task_events(lambda task: TOOLS[tool](studio, job, Path(folder), task), cancel, "studio-edit")

    def edit_work(named: dict[str, Any]) -> float:
        """GPU seconds of an edit (a ZeroGPU call asks for them up front), from its request."""
        tool, job = named["tool"], named["job"]
        if tool == "outpaint":
            sides = tuple(getattr(job, side) for side in outpaint.SIDES)
            return gpu_seconds.outpaint_work(studio, job.diffusion, job.image, sides, job.unit)
        chosen = upscale.mode(job.mode) if tool == "upscale" else upscale.Mode(tool, 1.0, True)
        return gpu_seconds.edit_work(studio, job.diffusion, job.image, chosen.factor, chosen.refine)

    editing = GpuWork(ctx, edit_on_gpu, edit_work)

    def student_load(tool: str, job: Any) -> Any:
        """What an edit draws, as a class's limits read it: an upscale by its picture (the result
        is 1.5 or 2 times larger), the others by their result. None when the picture cannot be
        read: the tool itself then says so."""
        try:
            if tool == "outpaint":
                sides = tuple(getattr(job, side) for side in outpaint.SIDES)
                return gpu_seconds.outpaint_load(studio, job.diffusion, job.image, sides, job.unit)
            return gpu_seconds.edit_load(studio, job.diffusion, job.image)
        except Exception:  # noqa: BLE001 - a bad picture is the tool's to refuse, with its own sentence
            return None

    def start_edit(tool: str, job: Any, folder: Path, request: gr.Request | None, key: str,
                   flag: CancelFlag | None = None) -> Run:
        rules = roles.limits_for(ctx, request)
        if rules is not None:  # a student: the class's limits, and the class's models
            rules.check_model(job.diffusion.checkpoint, checkpoints.offered(settings))
            if tool == "upscale":
                rules.check_model(job.upscaler, upscaler.choices(settings))
            load = student_load(tool, job)
            if load is not None:
                rules.check_load(load)
        return editing.start(request, key, f"Edit: {tool}", tool, job, str(folder), studio.class_rules.limits.safety,
                             flag=flag)

    def edited(tool: str, job: Any, request: gr.Request | None) -> dict:
        """An API call's edit, run to its end: the saved PNG and its summary."""
        run = start_edit(tool, job, owner.folder_for(ctx, request), request, owner.key_for(ctx, request))
        return _answer(run.result(event_alive()))

    # --- API: self-explaining parameters; the same studio functions as the UI ------------
    # Every file a script sends must be an upload (``uploaded``): a path on the server is refused.

    def upscale_image(image: gr.FileData, mode: api_types.UpscaleMode = upscale.FAST_2X, upscaler_model: str = "",
                      tile_size: int = 0, tile_overlap: int = upscale.DEFAULT_OVERLAP,
                      refine_denoise: float = upscale.REFINE_DENOISE, prompt: str = "", negative_prompt: str = "",
                      checkpoint: str = "", seed: int = -1, steps: int = 0, request: gr.Request = None) -> dict:
        """Enlarge `image`. mode: 'Upscale (Fast 2×)' (super-resolution only), 'Upscale (1.5×)' or
        'Upscale (2×)' (then a light redraw at refine_denoise, Fooocus's 0.382). upscaler_model: '' =
        default, a file in the upscalers folder, or owner/repo/file.pth. tile_size 0 = automatic.
        The prompt, checkpoint, seed and steps (0 = default) steer the refine. Returns the saved PNG."""
        upscale_request = upscale.UpscaleRequest(
            image=uploaded(image, "the image to upscale"), mode=mode, upscaler=upscaler_model, tile_size=tile_size,
            tile_overlap=tile_overlap, refine_denoise=refine_denoise,
            diffusion=_diffusion(prompt, negative_prompt, checkpoint, seed, steps),
        )
        return edited("upscale", upscale_request, request)

    def vary_image(image: gr.FileData, strength: api_types.VaryStrength = "subtle", denoise: float = 0.0, prompt: str = "",
                   negative_prompt: str = "", checkpoint: str = "", seed: int = -1, steps: int = 0,
                   request: gr.Request = None) -> dict:
        """A variation of `image`: strength 'subtle' (denoise 0.5) or 'strong' (0.85), or your own
        denoise (0 = by strength). Only int(steps × denoise) steps run. Returns the saved PNG."""
        vary_request = vary.VaryRequest(image=uploaded(image, "the image to vary"), strength=strength,
                                        denoise=denoise or None,
                                        diffusion=_diffusion(prompt, negative_prompt, checkpoint, seed, steps))
        return edited("vary", vary_request, request)

    def inpaint_image(image: gr.FileData, mask: gr.FileData, prompt: str = "", negative_prompt: str = "",
                      mask_grow: int = inpaint.DEFAULT_GROW, mask_feather: int = inpaint.DEFAULT_FEATHER,
                      only_masked_area: bool = True, denoise: float = inpaint.DEFAULT_DENOISE,
                      checkpoint: str = "", seed: int = -1, steps: int = 0, request: gr.Request = None) -> dict:
        """Repaint the part of `image` that `mask` marks (same size; white, or painted on a
        transparent layer, = repaint). mask_grow / mask_feather in pixels; only_masked_area: repaint a
        crop around the mask at the model's resolution. Pixels outside the feathered mask stay as
        they were. Returns the saved PNG."""
        # By name: mask_grow and mask_feather are both ints, and an order slip would swap them silently.
        inpaint_request = inpaint.InpaintRequest(
            image=uploaded(image, "the image to inpaint"), mask=uploaded(mask, "the mask"), mask_grow=mask_grow,
            mask_feather=mask_feather, only_masked_area=only_masked_area, denoise=denoise,
            diffusion=_diffusion(prompt, negative_prompt, checkpoint, seed, steps),
        )
        return edited("inpaint", inpaint_request, request)

    def outpaint_image(image: gr.FileData, left: float = 0, right: float = 0, top: float = 0, bottom: float = 0,
                       unit: api_types.OutpaintUnit = "px", prompt: str = "", negative_prompt: str = "",
                       seam_feather: int = outpaint.DEFAULT_FEATHER, denoise: float = outpaint.DEFAULT_DENOISE,
                       checkpoint: str = "", seed: int = -1, steps: int = 0, request: gr.Request = None) -> dict:
        """Extend `image` by left / right / top / bottom, in unit 'px' or '%' of that side, each
        rounded up to a multiple of 8 px (16 for Z-Image). The prompt is optional. The original pixels
        are kept byte for byte; the result can be sent back in to extend again. Returns the saved PNG."""
        outpaint_request = outpaint.OutpaintRequest(
            image=uploaded(image, "the image to extend"), left=left, right=right, top=top, bottom=bottom, unit=unit,
            seam_feather=seam_feather, denoise=denoise,
            diffusion=_diffusion(prompt, negative_prompt, checkpoint, seed, steps),
        )
        return edited("outpaint", outpaint_request, request)

    # --- UI ------------------------------------------------------------------------------

    with gr.Tab(t("edit.tab"), id="edit"):
        gr.Markdown(t("edit.intro"))
        with gr.Row():
            with gr.Column(scale=3):
                with gr.Tabs() as edit_tabs:
                    with gr.Tab(t("edit.upscale_tab"), id="edit-upscale") as upscale_tab:
                        uov_image = gr.Image(label=t("edit.image"), type="filepath", height=360,
                                             elem_id="edit-upscale-image")
                        uov_mode = gr.Radio([(t(f"edit.mode.{name}"), name) for name in UPSCALE_OR_VARY],
                                            value=DEFAULT_MODE, label=t("edit.mode"), info=t("edit.mode_info"),
                                            elem_id="edit-upscale-mode")
                        with gr.Accordion(t("edit.advanced"), open=False):
                            upscaler_pick = gr.Dropdown(upscaler_choices, value=upscaler_choices[0],
                                                        allow_custom_value=True, label=t("edit.upscaler"),
                                                        info=t("edit.upscaler_info"), elem_id="edit-upscaler")
                            with gr.Row():
                                tile_size = gr.Number(0, precision=0, minimum=0, label=t("edit.tile_size"))
                                tile_overlap = gr.Number(upscale.DEFAULT_OVERLAP, precision=0, minimum=0,
                                                         maximum=upscale.MAX_OVERLAP, label=t("edit.tile_overlap"))
                            with gr.Row():
                                refine_denoise = gr.Slider(*images.DENOISE_RANGE, value=upscale.REFINE_DENOISE, step=0.001,
                                                           label=t("edit.refine_denoise"))
                                subtle = gr.Slider(*images.DENOISE_RANGE, value=vary.STRENGTHS["Vary (Subtle)"], step=0.01,
                                                   label=t("edit.subtle_denoise"))
                                strong = gr.Slider(*images.DENOISE_RANGE, value=vary.STRENGTHS["Vary (Strong)"], step=0.01,
                                                   label=t("edit.strong_denoise"))
                        uov_button = gr.Button(t("edit.run_upscale"), variant="primary", elem_id="edit-upscale-run")
                    with gr.Tab(t("edit.inpaint_tab"), id="edit-inpaint") as inpaint_tab:
                        editor = gr.ImageEditor(label=t("edit.editor"), type="pil", height=420, sources=["upload", "clipboard"],
                                                brush=gr.Brush(colors=[("#ff00c8", 0.6)], default_size=24, color_mode="fixed"),
                                                transforms=(), layers=False, elem_id="edit-inpaint-editor")
                        mask_file = gr.Image(label=t("edit.mask_file"), type="filepath", height=140,
                                             elem_id="edit-inpaint-mask")
                        with gr.Row():
                            mask_grow = gr.Slider(0, masks.MAX_GROW, value=inpaint.DEFAULT_GROW, step=1, label=t("edit.mask_grow"))
                            mask_feather = gr.Slider(0, masks.MAX_FEATHER, value=inpaint.DEFAULT_FEATHER, step=1,
                                                     label=t("edit.mask_feather"))
                        with gr.Row():
                            only_masked = gr.Checkbox(True, label=t("edit.only_masked"), info=t("edit.only_masked_info"))
                            inpaint_denoise = gr.Slider(*images.DENOISE_RANGE, value=inpaint.DEFAULT_DENOISE, step=0.01,
                                                        label=t("edit.inpaint_denoise"))
                        inpaint_button = gr.Button(t("edit.run_inpaint"), variant="primary", elem_id="edit-inpaint-run")
                    with gr.Tab(t("edit.outpaint_tab"), id="edit-outpaint") as outpaint_tab:
                        out_image = gr.Image(label=t("edit.image"), type="filepath", height=360,
                                             elem_id="edit-outpaint-image")
                        with gr.Row():
                            sides = {
                                side: gr.Number(0, minimum=0, label=t(f"edit.{side}"), elem_id=f"edit-outpaint-{side}")
                                for side in outpaint.SIDES
                            }
                        with gr.Row():
                            unit = gr.Radio([("px", "px"), ("%", "%")], value="px", label=t("edit.unit"),
                                            info=t("edit.unit_info_px"), elem_id="edit-outpaint-unit")
                            seam_feather = gr.Slider(0, outpaint.MAX_FEATHER, value=outpaint.DEFAULT_FEATHER, step=1,
                                                     label=t("edit.seam_feather"))
                            out_denoise = gr.Slider(*images.DENOISE_RANGE, value=outpaint.DEFAULT_DENOISE, step=0.01,
                                                    label=t("edit.outpaint_denoise"))
                        outpaint_button = gr.Button(t("edit.run_outpaint"), variant="primary",
                                                    elem_id="edit-outpaint-run")
                with gr.Accordion(t("edit.shared"), open=True):
                    prompt = gr.Textbox(label=t("edit.prompt"), placeholder=t("edit.prompt_placeholder"),
                                        lines=2, elem_id="edit-prompt")
                    negative = gr.Textbox(label=t("edit.negative"), lines=1, elem_id="edit-negative")
                    with gr.Row():
                        checkpoint = gr.Dropdown(checkpoint_choices, value=checkpoint_choices[0], allow_custom_value=True,
                                                 label=t("edit.checkpoint"), info=t("edit.checkpoint_info"), scale=3,
                                                 elem_id="edit-checkpoint")
                        seed = gr.Number(-1, precision=0, label=t("edit.seed"), scale=1, elem_id="edit-seed")
                        steps = gr.Number(None, step=1, minimum=0, maximum=MAX_STEPS, label=t("edit.steps"),
                                          scale=1, elem_id="edit-steps")  # empty (not 0) = the default
            with gr.Column(scale=2):
                cancel_button = gr.Button(t("edit.cancel"), variant="stop", elem_id="edit-cancel")
                status = gr.Markdown(elem_id="edit-status")
                preview = gr.Image(label=t("edit.preview"), interactive=False, height=200, elem_id="edit-preview")
                result_view = gr.Image(label=t("edit.result"), interactive=False, type="filepath", height=360,
                                       elem_id="edit-result")
                details = gr.Markdown(elem_id="edit-details")
                result_path = gr.State(None)
                extend_again = gr.Button(t("edit.extend_again"), visible=False, elem_id="edit-extend-again")
                ctx.send_to.source(t("edit.send_picker"), t("edit.send"), result_path, "edit")

        ctx.send_to.register("edit-upscale", t("edit.send_upscale"), uov_image, "edit",
                             inner=((edit_tabs, "edit-upscale"),))
        ctx.send_to.register("edit-inpaint", t("edit.send_inpaint"), editor, "edit",
                             inner=((edit_tabs, "edit-inpaint"),))
        ctx.send_to.register("edit-outpaint", t("edit.send_outpaint"), out_image, "edit",
                             inner=((edit_tabs, "edit-outpaint"),))

        # Each tool's request fields, each from one component: requests are built by name.
        upscale_fields = {"upscaler": upscaler_pick, "tile_size": tile_size, "tile_overlap": tile_overlap,
                          "refine_denoise": refine_denoise}
        inpaint_fields = {"mask_grow": mask_grow, "mask_feather": mask_feather, "only_masked_area": only_masked,
                          "denoise": inpaint_denoise}
        outpaint_fields = {**sides, "unit": unit, "seam_feather": seam_feather, "denoise": out_denoise}
        cancel_flag = gr.State(None)
        shared = [prompt, negative, checkpoint, seed, steps, ctx.browser_id]
        run_outputs = [status, preview, result_view, details, result_path, extend_again]

        def stream(tool: str, job: Any, values: dict, progress: Any, request: gr.Request | None):
            """Run edit ``tool`` on ``job``: its turn, progress, previews, Cancel, then the result."""
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
                           preview: None, extend_again: gr.update(visible=result.tool == "outpaint")}
                elif isinstance(event, Stopped):
                    yield {status: say("edit.status_cancelled")}

        def diffusion_of(values: dict) -> Diffusion:
            return _diffusion(values[prompt], values[negative], values[checkpoint], values[seed], values[steps])

        def named(values: dict, fields: dict[str, Any]) -> dict[str, Any]:
            return {name: values[component] for name, component in fields.items()}

        def ui_upscale_or_vary(values: dict, request: gr.Request = None, progress=gr.Progress()):
            picked = values[uov_mode]
            if picked in vary.STRENGTHS:
                denoise = values[subtle] if picked == "Vary (Subtle)" else values[strong]
                job = vary.VaryRequest(image=values[uov_image], strength=picked, denoise=denoise,
                                       diffusion=diffusion_of(values))
                yield from stream("vary", job, values, progress, request)
                return
            fields = named(values, upscale_fields)
            fields.update(tile_size=int(fields["tile_size"] or 0), tile_overlap=int(fields["tile_overlap"] or 0))
            job = upscale.UpscaleRequest(image=values[uov_image], mode=picked, diffusion=diffusion_of(values), **fields)
            yield from stream("upscale", job, values, progress, request)

        def ui_inpaint(values: dict, request: gr.Request = None, progress=gr.Progress()):
            picture, layers = _editor_parts(values[editor])
            if picture is None:
                raise gr.Error("The image to inpaint is missing: upload a picture or send one from another tab.",
                               print_exception=False)
            if values[mask_file]:
                mask = values[mask_file]
            else:
                mask = images.mask_from_layers(picture.size, layers)
            job = inpaint.InpaintRequest(image=picture, mask=mask, diffusion=diffusion_of(values),
                                         **named(values, inpaint_fields))
            yield from stream("inpaint", job, values, progress, request)

        def ui_outpaint(values: dict, request: gr.Request = None, progress=gr.Progress()):
            job = outpaint.OutpaintRequest(image=values[out_image], diffusion=diffusion_of(values),
                                           **named(values, outpaint_fields))
            yield from stream("outpaint", job, values, progress, request)

        for button, fn, inputs in (
            (uov_button, ui_upscale_or_vary, [uov_image, uov_mode, subtle, strong, *upscale_fields.values()]),
            (inpaint_button, ui_inpaint, [editor, mask_file, *inpaint_fields.values()]),
            (outpaint_button, ui_outpaint, [out_image, *outpaint_fields.values()]),
        ):
            cancellable_run(ctx, [button.click], fn, set(inputs + shared), run_outputs, cancel_flag, status)
        wire_cancel(ctx, cancel_button, cancel_flag, status)

        def extend(path: str | None, request: gr.Request = None):
            if not path:
                raise gr.Error(t.for_request(request)("send.nothing"), print_exception=False)
            return path, gr.Tabs(selected="edit-outpaint")

        extend_again.click(extend, result_path, [out_image, edit_tabs], api_visibility="private")
        # "Extend again" belongs to Outpaint: shown on that sub-tab only.
        for sub_tab, shown in ((upscale_tab, False), (inpaint_tab, False), (outpaint_tab, True)):
            sub_tab.select(lambda shown=shown: gr.update(visible=shown), None, extend_again,
                           api_visibility="private", show_progress="hidden")

        def unit_hint(chosen: str, request: gr.Request = None):
            return gr.update(info=t.for_request(request)("edit.unit_info_pct" if chosen == "%" else "edit.unit_info_px"))

        unit.change(unit_hint, unit, unit, api_visibility="private", show_progress="hidden")

        def made_with(value: Any, current_prompt: str, current_negative: str):
            """A picture made here (or by any A1111-style tool) brings its model and prompts along:
            the edit then redraws with the checkpoint it was made with (already in the cache)."""
            path = path_of(value)
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
                checkpoint_update = gr.update(value=checkpoint_choices[0])
            prompt_update = gr.update(value=found["prompt"]) if found.get("prompt") and not current_prompt else gr.update()
            negative_update = (gr.update(value=found["negative_prompt"])
                               if found.get("negative_prompt") and not current_negative else gr.update())
            return checkpoint_update, prompt_update, negative_update

        for picture_input in (uov_image, out_image):
            picture_input.change(made_with, [picture_input, prompt, negative], [checkpoint, prompt, negative],
                                 api_visibility="private", show_progress="hidden")

        gr.api(friendly(upscale_image), api_name="upscale", **gpu_event(ctx))
        gr.api(friendly(vary_image), api_name="vary", **gpu_event(ctx))
        gr.api(friendly(inpaint_image), api_name="inpaint", **gpu_event(ctx))
        gr.api(friendly(outpaint_image), api_name="outpaint", **gpu_event(ctx))
