"""Image tab: Fooocus-style generation (styles, presets, aspect ratios, seeds, LoRAs) with live
previews, Cancel, a per-browser history, PNG metadata round trip and "send to".
Only components and wiring here: the work is in ``studio.image``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import gradio as gr

from studio import safety, zero_gpu
from studio.image import checkpoints, gpu_seconds, image_prompts, presets, styles
from studio.image.generate import generate_images
from studio.image.request import LORA_WEIGHT_RANGE, MAX_CFG, MAX_IMAGES, MAX_LORAS, MAX_STEPS, ImageRequest
from studio.image.schedulers import UNET_SCHEDULERS
from studio.pictures import metadata, outputs
from studio.progress import Cancelled, CancelFlag, Delivered, Finished, Progress, Stopped, task_events
from studio.prompts import instructions
from studio.prompts.for_image import PromptExpanded, expand_request, should_expand
from studio.runs import LatestRuns, Run, Waiting
from tabs import api_types, owner, roles
from tabs.common import (
    TabContext, cancellable_run, friendly, gpu_event, progress_update,
    uploaded, wire_cancel, worded,
)
from tabs.gpu import RELOAD_GRACE_SECONDS, GpuWork, run_events
from tabs.i18n import or_english, style_key
from tabs.image_prompt_panel import build_panel, wire_panel

PRESET_SAMPLER = ""  # the sampler dropdown's "follow the preset" value
PROMPT_PICTURE = "each image prompt's picture"
FOLLOW_SECONDS = 1.0  # how often a reloaded page reads a run's progress
EXPANSION_TOKENS = max(tokens for _, tokens in instructions.LENGTHS.values())  # the longest expansion


def _api_slots(slots: Any) -> tuple:
    """The API's image prompts ([{image, type, weight, stop_at}, ...]) with their uploaded files."""
    if not slots:
        return ()
    if not isinstance(slots, (list, tuple)):
        slots = [slots]
    out = []
    for slot in slots:
        if isinstance(slot, dict):
            slot = {**slot, "image": uploaded(slot.get("image"), PROMPT_PICTURE)}
        elif isinstance(slot, (list, tuple)) and slot:  # [image, type, weight, stop_at]
            slot = [uploaded(slot[0], PROMPT_PICTURE), *slot[1:]]
        out.append(slot)
    return tuple(out)


def _save_preview(image: Any) -> str:
    """A preview PNG in Gradio's cache, named by its content as Gradio names the pictures it
    caches: the same preview asked again is the same file (no pile of copies), and Gradio's own
    cache cleaning (``delete_cache``) removes it with the rest."""
    from gradio.processing_utils import save_pil_to_cache
    from gradio.utils import get_upload_folder

    return save_pil_to_cache(image, get_upload_folder(), name="preview", format="png")


def _style_choices(t: Any) -> list[tuple[Any, str]]:
    """Each style's name and description in the reader's language; the value is its name."""
    return [(t(style_key(name)), name) for name in styles.all_styles()]


def _number_or_none(value: Any, whole: bool = False) -> Any:
    """An empty field follows the preset (None); a whole-number field's value as an int."""
    if value in (None, ""):
        return None
    return int(round(float(value))) if whole else value


def _gallery_item(result) -> tuple[str, str]:
    return result.path or result.image, f"seed {result.seed}"


def _details_markdown(result_summary: dict[str, Any]) -> str:
    resolved = result_summary.get("resolved", {})
    lines = [
        f"**seed {resolved.get('seed')}** · {resolved.get('width')}×{resolved.get('height')} · "
        f"{resolved.get('steps')} steps · {resolved.get('scheduler')} · CFG {resolved.get('cfg')} · `{resolved.get('model')}`",
        f"**Prompt sent to the model:** {resolved.get('prompt') or '(empty)'}",
    ]
    if resolved.get("negative_prompt"):
        lines.append(f"**Negative:** {resolved['negative_prompt']}")
    if resolved.get("loras"):
        lines.append("**LoRAs:** " + ", ".join(f"{name} ({weight:g})" for name, weight in resolved["loras"]))
    slots = (result_summary.get("request") or {}).get("image_prompts") or []
    if slots:
        lines.append("**Image prompts:** " + ", ".join(
            f"{s['type']} (weight {s['weight']:g}, stop at {s['stop_at']:g}, picture #{(s.get('image_sha256') or '')[:8]})"
            for s in slots))
    return "\n\n".join(lines)


def describe_family(family: Any, say: Any) -> str:
    """What the Image tab says of a checkpoint's family: its note, and each control it ignores."""
    note = say(family.note_key)
    if note == family.note_key:  # a family with no strings in assets/i18n: its own description
        note = f"**{family.label}**: {family.description}" if family.description else f"**{family.label}**"
    return "\n".join([note] + [f"- {unused_reason(family, control, say)}" for control in family.unused])


def unused_reason(family: Any, control: str, say: Any) -> str:
    """Why the family ignores ``control``, in the reader's language where translated."""
    return or_english(say, family.unused_key(control), family.unused[control])


def build(ctx: TabContext) -> None:
    t, studio, settings = ctx.t, ctx.studio, ctx.settings
    checkpoint_choices = checkpoints.offered(settings)
    runs = LatestRuns()  # each browser's latest run, for a page that comes back

    # --- the GPU's part: plain values in, plain events out (on ZeroGPU, across a fork) -----

    def generate_on_gpu(image_request: ImageRequest, expand: bool, folder: str, safe: bool, cancel: CancelFlag):
        """Expand the prompt into English when asked, then draw the images: a ``PromptExpanded``
        event, then the generation's progress, images and end. ``safe``: each picture is
        screened before it is saved or shown (studio.safety)."""
        image_request, expansion = expand_request(studio, image_request, expand)
        yield expansion
        with safety.screening(studio, safe):
            yield from task_events(lambda task: generate_images(studio, image_request, Path(folder), task), cancel,
                                   "studio-image")

    def generation_work(named: dict[str, Any]) -> float:
        """GPU seconds of a generation (a ZeroGPU call asks for them up front)."""
        work = gpu_seconds.generation_work(studio, named["image_request"])
        return work + (zero_gpu.text_work(EXPANSION_TOKENS) if named["expand"] else 0.0)

    def preview_on_gpu(path: str, kind: str):
        shown = image_prompts.preview(studio, path, kind)
        return shown

    generation = GpuWork(ctx, generate_on_gpu, generation_work)
    previewing = GpuWork(ctx, preview_on_gpu)

    def start_generation(image_request: ImageRequest, expand: bool, folder: Path, request: gr.Request | None,
                         key: str, flag: CancelFlag | None = None, grace: float = 0.0) -> Run:
        rules = roles.limits_for(ctx, request)
        if rules is not None:  # a student: the class's limits, and the class's models
            rules.check_load(gpu_seconds.generation_load(studio, image_request))
            rules.check_model(image_request.checkpoint, checkpoints.offered(settings))
        what = f"Image: {image_request.image_number} × {image_request.prompt[:40]!r}"
        return generation.start(request, key, what, image_request, expand, str(folder), studio.class_rules.limits.safety,
                                flag=flag, grace=grace)

    # --- API: self-explaining parameters; the same studio function as the UI --------------

    def generate_image(
        prompt: str,
        negative_prompt: str = "",
        styles: list[str] | None = None,
        performance: api_types.Performance = presets.DEFAULT_PERFORMANCE,
        aspect_ratio: api_types.AspectRatio = presets.DEFAULT_ASPECT,
        image_number: int = 1,
        seed: int = -1,
        checkpoint: str = "",
        loras: list[list[Any]] | None = None,
        width: int = 0,
        height: int = 0,
        steps: int = 0,
        cfg: float | None = None,
        scheduler: api_types.Scheduler = "",
        expand_into_english: bool = False,
        image_prompts: list[api_types.ImagePromptSlot] | None = None,
        request: gr.Request = None,
    ) -> dict:
        """Generate `image_number` images (1-8). styles: names from /styles, applied in order.
        performance: Quality | Speed | Extreme Speed | Lightning. aspect_ratio e.g. '1152×896'
        (or width and height). seed -1 = random; image i uses seed + i. checkpoint: '' for the
        default, a Hub id, or a file in the checkpoints folder. loras: [[file, weight], ...].
        steps 0 / cfg None / scheduler '' follow the preset. expand_into_english: an LLM first
        turns the prompt into an English image prompt (for SDXL, SD 1.5 and FLUX; Z-Image reads Chinese).
        image_prompts: up to 4 slots [{"image": handle_file(...), "type": "ImagePrompt" | "PyraCanny" |
        "CPDS" | "FaceSwap", "weight": 0-2, "stop_at": 0-1}] (weight / stop_at left out = the type's defaults).
        Returns images with their seeds, final prompts and metadata."""
        image_request = api_request(locals())
        run = start_generation(image_request, expand_into_english, owner.folder_for(ctx, request), request,
                               owner.key_for(ctx, request))
        notes: list[str] = []
        for event in run_events(run):
            if isinstance(event, PromptExpanded):
                notes = list(event.notes)
            elif isinstance(event, Stopped):
                raise Cancelled()
        return {
            "images": [{"image": gr.FileData(path=r.path), **r.summary()} for r in run.value or run.delivered],
            "prompt_expansion": notes,
        }

    def api_request(named: dict[str, Any]) -> ImageRequest:
        """The request that /generate_image's parameters (by name) describe."""
        return ImageRequest(
            prompt=named["prompt"], negative_prompt=named["negative_prompt"], styles=tuple(named["styles"] or ()),
            performance=named["performance"], aspect_ratio=named["aspect_ratio"], image_number=named["image_number"],
            seed=named["seed"], checkpoint=named["checkpoint"], loras=tuple(tuple(pair) for pair in named["loras"] or ()),
            width=named["width"] or None, height=named["height"] or None, steps=named["steps"] or None,
            cfg=named["cfg"], scheduler=named["scheduler"] or None, image_prompts=_api_slots(named["image_prompts"]),
        )

    def image_prompt_preview(image: gr.FileData, type: api_types.ImagePromptType = "PyraCanny",  # noqa: A002 - the API's word
                             request: gr.Request = None) -> dict:
        """What an image prompt gives the model: the PyraCanny or CPDS map (the picture's size), the
        square the image encoder reads (ImagePrompt) or the largest face, cropped (FaceSwap)."""
        path = uploaded(image, "the picture to preview")
        shown = previewing.call(request, owner.key_for(ctx, request), f"Image prompt preview: {type}", path, type)
        return {"image": gr.FileData(path=_save_preview(shown)), "width": shown.width, "height": shown.height,
                "type": image_prompts.slots.type_name(type)}

    def list_styles() -> list[dict]:
        """Every style: name, one-line description, prompt template ({prompt} is replaced) and negative."""
        return styles.listing()

    # --- UI ------------------------------------------------------------------------------

    with gr.Tab(t("image.tab"), id="image"):
        gr.Markdown(t("image.intro"))
        with gr.Row():
            with gr.Column(scale=3):
                with gr.Row():
                    prompt = gr.Textbox(label=t("image.prompt"), placeholder=t("image.prompt_placeholder"),
                                        lines=3, scale=5, elem_id="image-prompt")
                    with gr.Column(scale=1, min_width=140):
                        generate_button = gr.Button(t("image.generate"), variant="primary", elem_id="image-generate")
                        cancel_button = gr.Button(t("image.cancel"), variant="stop", elem_id="image-cancel")
                expand_toggle = gr.Checkbox(False, label=t("image.expand"), info=t("image.expand_info"),
                                            elem_id="image-expand")
                with gr.Accordion(t("image.prompts"), open=False, elem_id="image-prompts"):
                    prompt_panel = build_panel(t)
                status = gr.Markdown(elem_id="image-status")
                with gr.Row():
                    preview = gr.Image(label=t("image.preview"), interactive=False, height=256, scale=1,
                                       elem_id="image-preview")
                    gallery = gr.Gallery(label=t("image.results"), columns=4, height=420, scale=3,
                                         elem_id="image-gallery", allow_preview=True)
                details = gr.Markdown(elem_id="image-details")
                selected_path = gr.State(None)
                ctx.send_to.source(t("image.send_picker"), t("image.send"), selected_path, "image")
                with gr.Accordion(t("image.history"), open=True):
                    history = gr.Gallery(columns=6, height=300, show_label=False, elem_id="image-history")
                    with gr.Row():
                        history_button = gr.Button(t("image.history_refresh"), size="sm")
                        restore_button = gr.Button(t("image.restore"), size="sm", elem_id="image-restore")
                    drop_png = gr.File(label=t("image.drop_png"), file_types=[".png"], type="filepath",
                                       height=90, elem_id="image-drop-png")
            with gr.Column(scale=2):
                # The whole column's width: Hub ids are long, and were cut off beside the button.
                checkpoint = gr.Dropdown(checkpoint_choices, value=checkpoint_choices[0], label=t("image.checkpoint"),
                                         info=t("image.checkpoint_info"), allow_custom_value=True,
                                         elem_id="image-checkpoint")
                refresh_button = gr.Button(t("image.refresh"), size="sm")
                family_note = gr.Markdown(elem_id="image-family")
                negative_prompt = gr.Textbox(label=t("image.negative"), info=t("image.negative_info"), lines=2,
                                             elem_id="image-negative")
                style_pick = gr.Dropdown(_style_choices(t), value=[], multiselect=True, filterable=True,
                                         label=t("image.styles"), info=t("image.styles_info"), elem_id="image-styles")
                no_style = gr.Button(t("image.no_style"), size="sm")
                performance = gr.Radio(
                    [(t(f"image.perf.{name}"), name) for name in presets.PERFORMANCES],
                    value=presets.DEFAULT_PERFORMANCE, label=t("image.performance"), elem_id="image-performance",
                )
                aspect_ratio = gr.Dropdown(presets.aspect_choices(), value=presets.DEFAULT_ASPECT,
                                           label=t("image.aspect"), elem_id="image-aspect")
                with gr.Row():
                    image_number = gr.Slider(1, MAX_IMAGES, value=2, step=1, label=t("image.number"),
                                             elem_id="image-number")
                    seed = gr.Number(-1, precision=0, label=t("image.seed"), info=t("image.seed_info"),
                                     elem_id="image-seed")
                with gr.Accordion(t("image.loras"), open=False):
                    gr.Markdown(t("image.loras_info"))
                    lora_names, lora_weights = [], []
                    for i in range(MAX_LORAS):
                        with gr.Row():
                            lora_names.append(gr.Dropdown(["None"] + checkpoints.offered_loras(settings), value="None",
                                                          label=f"{t.plain('image.lora')} {i + 1}", scale=3))
                            lora_weights.append(gr.Slider(*LORA_WEIGHT_RANGE, value=1.0, step=0.05, label=t("image.weight"), scale=2))
                with gr.Accordion(t("image.advanced"), open=False, elem_id="image-advanced"):
                    gr.Markdown(t("image.advanced_info"))
                    with gr.Row():
                        # No precision=0: Gradio shows an empty whole-number field as 0, which is not "follow the preset".
                        steps = gr.Number(None, step=1, minimum=0, maximum=MAX_STEPS, label=t("image.steps"),
                                          elem_id="image-steps")
                        cfg = gr.Number(None, minimum=0, maximum=MAX_CFG, label=t("image.cfg"), elem_id="image-cfg")
                    sampler = gr.Dropdown([(t("image.sampler_preset"), PRESET_SAMPLER)] + list(UNET_SCHEDULERS),
                                          value=PRESET_SAMPLER, label=t("image.sampler"), elem_id="image-sampler")
                    with gr.Row():
                        width = gr.Number(None, step=8, label=t("image.width"), elem_id="image-width")
                        height = gr.Number(None, step=8, label=t("image.height"), elem_id="image-height")

        # The request's fields, each from one component: handlers get {component: value}.
        fields: dict[str, Any] = {
            "prompt": prompt, "negative_prompt": negative_prompt, "styles": style_pick, "performance": performance,
            "aspect_ratio": aspect_ratio, "image_number": image_number, "seed": seed, "checkpoint": checkpoint,
            "steps": steps, "cfg": cfg, "scheduler": sampler, "width": width, "height": height,
        }
        lora_components = lora_names + lora_weights
        request_inputs = set(fields.values()) | set(lora_components) | {expand_toggle} | set(prompt_panel.inputs)
        cancel_flag = gr.State(None)
        last_results = gr.State([])  # summaries of this run's images, for the details line

        def request_from(values: dict) -> ImageRequest:
            data = {name: values[component] for name, component in fields.items()}
            for name in ("steps", "cfg", "width", "height"):
                data[name] = _number_or_none(data[name], whole=name != "cfg")
            data["styles"] = tuple(data["styles"] or ())
            data["scheduler"] = data["scheduler"] or None
            data["loras"] = tuple(
                (values[n], values[w]) for n, w in zip(lora_names, lora_weights) if values[n] not in (None, "", "None")
            )
            data["image_prompts"] = prompt_panel.slots(values)
            return ImageRequest(**data)

        def ui_generate(values: dict, request: gr.Request = None, progress=gr.Progress()):
            image_request = request_from(values)
            folder = owner.folder_for(ctx, request, values[ctx.browser_id])
            key = owner.key_for(ctx, request, values[ctx.browser_id])
            say = t.for_request(request)
            shown: list = []
            # The work goes on a while if the page goes away: a reloaded page finds the run, its
            # form and its progress (wire_follow below), and its images land in the history.
            run = start_generation(image_request, values[expand_toggle], folder, request, key,
                                   flag=values[cancel_flag], grace=RELOAD_GRACE_SECONDS)
            runs.start(key, run, {component: values[component] for component in restored_form if component in values})
            summaries: list = []
            yield {status: say("image.status_starting"), gallery: [], details: ""}
            for event in run_events(run):
                if isinstance(event, Waiting):
                    yield {status: say("app.waiting_turn").format(place=event.place)}
                elif isinstance(event, PromptExpanded):
                    said = "\n\n".join(f"> {note}" for note in event.notes)
                    if event.original_prompt:
                        said = f"**{say('image.english_prompt')}** {event.prompt}\n\n" + said
                    yield {status: said or say("image.status_starting")}
                elif isinstance(event, Progress):
                    line = say("image.status_step").format(label=worded(event.label, say), step=event.step,
                                                           total=event.total)
                    yield progress_update(event, progress, status, preview, unit="step ", line=line, say=say)
                elif isinstance(event, Delivered):
                    shown.append(_gallery_item(event.item))
                    summaries.append(event.item.parameters)
                    notes = "\n\n".join(f"> {n}" for n in event.item.notes)
                    # The newest image is the selected one: an enlarged view shows the image the
                    # details below describe (it showed image 1's while the details were image 2's).
                    yield {gallery: gr.Gallery(value=list(shown), selected_index=len(shown) - 1),
                           preview: event.item.image, last_results: list(summaries),
                           details: _details_markdown(event.item.parameters) + ("\n\n" + notes if notes else ""),
                           selected_path: event.item.path}
                elif isinstance(event, Finished):
                    yield {status: say("image.status_done").format(count=len(shown)), history: outputs.history(folder)}
                elif isinstance(event, Stopped):
                    yield {status: say("image.status_cancelled").format(count=len(shown)),
                           history: outputs.history(folder)}

        run_outputs = [status, gallery, details, preview, last_results, selected_path, history]
        cancellable_run(ctx, [generate_button.click, prompt.submit], ui_generate,
                        request_inputs | {ctx.browser_id}, run_outputs, cancel_flag, status)
        wire_cancel(ctx, cancel_button, cancel_flag, status)

        # --- a reload while a run goes on: the form as it was, the run followed to its end ---
        restored_form = [*fields.values(), *lora_names, *lora_weights, expand_toggle]
        wire_follow(ctx, runs, restored_form, cancel_flag, [status, gallery, preview, history])

        # --- picking results, history, metadata ---

        def pick_result(summaries: list, event: gr.SelectData):
            index = event.index if isinstance(event.index, int) else 0
            value = event.value or {}
            path = (value.get("image") or {}).get("path") if isinstance(value, dict) else None
            info = summaries[index] if index < len(summaries) else {}
            return path, _details_markdown(info) if info else ""

        gallery.select(pick_result, last_results, [selected_path, details], api_visibility="private")

        wire_history(ctx, history, history_button, selected_path, details)

        wire_restore(ctx, fields, lora_names, lora_weights, status, [restore_button.click, drop_png.upload],
                     [selected_path, drop_png])

        # --- family-aware controls ---

        wire_family_controls(ctx, checkpoint, checkpoint_choices[0], family_note, performance, sampler,
                             negative_prompt, cfg)
        wire_lists(ctx, checkpoint, refresh_button, lora_names)
        no_style.click(lambda: [], None, style_pick, api_visibility="private")
        wire_expand_default(ctx, prompt, checkpoint, expand_toggle)
        wire_panel(ctx, prompt_panel, checkpoint, checkpoint_choices[0], previewing)

        gr.api(friendly(generate_image), api_name="generate_image", **gpu_event(ctx))
        gr.api(friendly(image_prompt_preview), api_name="image_prompt_preview", **gpu_event(ctx))
        gr.api(friendly(list_styles), api_name="styles")


def wire_history(ctx: TabContext, history: Any, refresh: Any, selected_path: Any, details: Any) -> None:
    """This browser's saved images: shown on load and on Refresh; a picked one's details."""

    def pick_history(event: gr.SelectData):
        value = event.value or {}
        path = (value.get("image") or {}).get("path") if isinstance(value, dict) else None
        if not path:
            return None, ""
        found = metadata.read_parameters(path)
        return path, _details_markdown(found.get("studio", {})) if "studio" in found else ""

    history.select(friendly(pick_history), None, [selected_path, details], api_visibility="private")

    def show_history(browser_id: str, request: gr.Request = None):
        return outputs.history(owner.folder_for(ctx, request, browser_id))

    refresh.click(friendly(show_history), ctx.browser_id, history, api_visibility="private")
    ctx.after_load.append((friendly(show_history), [history]))


def wire_restore(ctx: TabContext, fields: dict[str, Any], lora_names: list, lora_weights: list, status: Any,
                 triggers: list, sources: list) -> None:
    """A PNG's settings back into the form: from the picked result or history image, or a dropped
    file (studio or A1111 PNGs). ``triggers[i]`` reads ``sources[i]``."""
    t = ctx.t

    def restore(path: str | None, request: gr.Request = None):
        """Put the settings a PNG carries back into the controls (studio or A1111 PNGs)."""
        if not path:
            raise gr.Error(t.for_request(request)("send.nothing"), print_exception=False)
        found = metadata.read_parameters(path)
        if "studio" in found:
            data = ImageRequest.from_parameters(found["studio"]["request"]).parameters()
            notes: list[str] = []
        else:
            data, notes = metadata.request_fields_from_a1111(found["a1111"])
        updates: dict = {}
        for name, component in fields.items():
            if name in data:
                value = data[name]
                if name == "styles":
                    value = list(value)
                if name == "scheduler":
                    value = value or PRESET_SAMPLER
                updates[component] = value
        loras = data.get("loras") or []
        for i, (name_box, weight_box) in enumerate(zip(lora_names, lora_weights)):
            name, weight = loras[i] if i < len(loras) else ("None", 1.0)
            updates[name_box], updates[weight_box] = name, weight
        updates[status] = t.for_request(request)("image.status_restored") + "".join(f"\n\n> {n}" for n in notes)
        return updates

    restore_outputs = list(fields.values()) + lora_names + lora_weights + [status]
    for trigger, source in zip(triggers, sources):
        trigger(friendly(restore), source, restore_outputs, api_visibility="private")
    ctx.image_restore = (friendly(restore), restore_outputs)  # the class wall's "Try this prompt"


def wire_family_controls(ctx: TabContext, checkpoint: Any, default_checkpoint: str, family_note: Any,
                         performance: Any, sampler: Any, negative_prompt: Any, cfg: Any) -> None:
    """The controls follow the picked checkpoint's family: its note, what it ignores (greyed out,
    with why), its samplers and default CFG."""
    t, studio = ctx.t, ctx.studio

    def on_checkpoint(name: str, request: gr.Request = None):
        say = t.for_request(request)
        family = checkpoints.family_hint(studio, name)
        if family is None:
            return say("image.family_unknown"), gr.update(), gr.update(), gr.update(), gr.update()
        sampler_choices = [(say("image.sampler_preset"), PRESET_SAMPLER)] + list(family.schedulers)
        return (
            describe_family(family, say),
            gr.update(interactive=family.uses("performance")),
            gr.update(choices=sampler_choices, value=PRESET_SAMPLER, interactive=family.uses("scheduler")),
            gr.update(info=unused_reason(family, "negative_prompt", say) if not family.uses("negative_prompt")
                      else say("image.negative_info")),
            gr.update(value=family.defaults.cfg if not family.uses("performance") else None),
        )

    checkpoint.change(friendly(on_checkpoint), checkpoint, [family_note, performance, sampler, negative_prompt, cfg],
                      api_visibility="private")

    def on_load(_browser_id: str, request: gr.Request = None):
        return on_checkpoint(default_checkpoint, request)

    ctx.after_load.append((friendly(on_load), [family_note, performance, sampler, negative_prompt, cfg]))


def wire_lists(ctx: TabContext, checkpoint: Any, refresh_button: Any, lora_names: list) -> None:
    """Refresh lists: new checkpoint and LoRA files without a restart; each user's own LoRAs."""
    settings = ctx.settings

    def lora_choices(browser_id: str, request: gr.Request | None) -> list:
        """Shared LoRAs plus the ones this user trained (nobody else's)."""
        names = ["None"] + checkpoints.offered_loras(settings, owner.key_for(ctx, request, browser_id))
        return [gr.update(choices=names) for _ in lora_names]

    def refresh_lists(current: str, browser_id: str, request: gr.Request = None):
        names = checkpoints.offered(settings)
        return [gr.update(choices=names, value=current)] + lora_choices(browser_id, request)

    refresh_button.click(friendly(refresh_lists), [checkpoint, ctx.browser_id], [checkpoint, *lora_names],
                         api_visibility="private")

    def own_loras_on_load(browser_id: str, request: gr.Request = None):
        return lora_choices(browser_id, request)

    ctx.after_load.append((friendly(own_loras_on_load), lora_names))


def wire_expand_default(ctx: TabContext, prompt: Any, checkpoint: Any, expand_toggle: Any) -> None:
    """Expand-into-English follows the prompt's language and the checkpoint's family."""
    studio = ctx.studio

    def expand_default(text: str, name: str) -> bool:
        """On for a family that reads English only (SDXL, SD 1.5, FLUX) when the prompt is not
        English; off for Z-Image (reads Chinese)."""
        family = checkpoints.family_hint(studio, name)
        return should_expand(text or "", family.name if family else "sdxl")

    for trigger in (prompt.blur, checkpoint.change):
        trigger(friendly(expand_default), [prompt, checkpoint], expand_toggle,
                api_visibility="private", show_progress="hidden")


def wire_follow(ctx: TabContext, runs: LatestRuns, restored_form: list, cancel_flag: Any, followed: list) -> None:
    """A page reloaded during its run gets the run's form back, and follows the run (progress,
    images as they come, then the history) until it ends, as if it had never gone away; its
    Cancel reaches the run. ``followed``: the status, gallery, preview and history components."""
    status, gallery, preview, history = followed
    follow_timer = gr.Timer(FOLLOW_SECONDS, active=False)

    def follow_view(run: Run, folder: Path, say: Callable[[str], str]) -> tuple:
        shown = [_gallery_item(item) for item in run.delivered]
        selected = len(shown) - 1 if shown else None
        if not run.ended:
            progress_event = run.last_progress
            if progress_event is not None:
                said = say("image.status_step").format(label=worded(progress_event.label, say),
                                                       step=progress_event.step, total=progress_event.total)
            elif run.place is not None:
                said = say("app.waiting_turn").format(place=run.place)
            else:
                said = say("image.status_starting")
            preview_image = progress_event.preview if progress_event and progress_event.preview else gr.skip()
            return said, gr.Gallery(value=shown, selected_index=selected), preview_image, gr.skip(), \
                gr.Timer(active=True)
        key = {"done": "image.status_done", "cancelled": "image.status_cancelled"}.get(run.outcome, "image.status_error")
        return say(key).format(count=len(shown)), gr.Gallery(value=shown, selected_index=selected), gr.skip(), \
            outputs.history(folder), gr.Timer(active=False)

    def restore_run(browser_id: str, request: gr.Request = None):
        found = runs.current(owner.key_for(ctx, request, browser_id))
        if found is None or found[0].ended:  # nothing going on for this browser
            return (*(gr.skip() for _ in restored_form), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(),
                    gr.Timer(active=False))
        run, form = found
        run.follow()
        folder = owner.folder_for(ctx, request, browser_id)
        values = [form.get(component, gr.skip()) for component in restored_form]
        return (*values, run.flag, *follow_view(run, folder, ctx.t.for_request(request)))

    def follow_run(browser_id: str, request: gr.Request = None):
        found = runs.current(owner.key_for(ctx, request, browser_id))
        if found is None:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.Timer(active=False)
        found[0].follow()
        return follow_view(found[0], owner.folder_for(ctx, request, browser_id), ctx.t.for_request(request))

    followed = [status, gallery, preview, history, follow_timer]
    ctx.after_load.append((friendly(restore_run), [*restored_form, cancel_flag, *followed]))
    follow_timer.tick(friendly(follow_run), ctx.browser_id, followed, api_visibility="private",
                      show_progress="hidden")
