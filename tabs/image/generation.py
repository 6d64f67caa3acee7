"""Generating on the Image tab: the GPU's part (plain values in, plain events out: on ZeroGPU it
crosses a fork), a run started in its turn with a class's limits checked, the page's run with
its progress, pictures and Cancel, and the /generate_image API on the same function."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import gradio as gr

from studio import safety, zero_gpu
from studio.image import checkpoints, gpu_seconds, image_prompts, presets, styles
from studio.image.edit import enhance
from studio.image.edit.enhance import EnhanceRequest
from studio.image.generate import generate_images
from studio.image.request import ImageRequest
from studio.progress import Cancelled, CancelFlag, Delivered, Finished, Progress, Stopped, task_events
from studio.prompts import instructions
from studio.prompts.for_image import PromptExpanded, expand_request
from studio.runs import LatestRuns, Run, Waiting
from studio.tools.fields import checked
from tabs import api_types, owner, roles
from tabs.common import TabContext, cancellable_run, progress_update, uploaded, wire_cancel, worded
from tabs.gpu import RELOAD_GRACE_SECONDS, GpuWork, run_events
from tabs.image.form import ImageForm
from tabs.image_prompt_panel import api_slots, previewing_work
from tabs.image.results import details_markdown, gallery_item
from tabs.tools import api_fields, documented, inputs_of, request_of, values_of

if TYPE_CHECKING:
    from PIL import Image

    from studio.progress import Task
    from studio.settings import Settings
    from studio.tools.fields import Declared

EXPANSION_TOKENS = max(tokens for _, tokens in instructions.LENGTHS.values())  # the longest expansion


def _save_preview(image: Image.Image) -> str:
    """A preview PNG in Gradio's cache, named by its content as Gradio names the pictures it
    caches: the same preview asked again is the same file, and Gradio's cache cleaning removes it."""
    from gradio.processing_utils import save_pil_to_cache
    from gradio.utils import get_upload_folder

    return save_pil_to_cache(image, get_upload_folder(), name="preview", format="png")


def _number_or_none(value: Any, whole: bool = False) -> Any:
    """An empty box follows the preset (None); a whole number's box as an int. Anything else goes
    on as it was typed, for the request's check to refuse in words."""
    if value is None or not str(value).strip():
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    return int(number) if whole and number.is_integer() else number


class Generation:
    """The Image tab's GPU functions and how a run of them starts."""

    def __init__(self, ctx: TabContext):
        self.ctx = ctx
        studio = ctx.studio

        def generate_on_gpu(image_request: ImageRequest, expand: bool, folder: str, safe: bool, cancel: CancelFlag,
                            enhancing: EnhanceRequest | None = None):
            """Expand the prompt into English when asked, then draw the images: a ``PromptExpanded``
            event, then the generation's progress, images and end; screened when ``safe``. With
            ``enhancing`` (the Enhance section), each image is then enhanced in the same turn."""
            image_request, expansion = expand_request(studio, image_request, expand)
            yield expansion

            def draw(task: Task) -> list:
                made = generate_images(studio, image_request, Path(folder), task)
                if enhancing is None:
                    return made
                return made + enhance.enhance_generated(studio, enhancing, made, Path(folder), task)

            with safety.screening(studio, safe):
                yield from task_events(draw, cancel, "studio-image")

        def generation_work(named: dict[str, Any]) -> float:
            """GPU seconds of a generation (a ZeroGPU call asks for them up front); Enhance redraws
            each region of each image at about an image's cost at most."""
            work = gpu_seconds.generation_work(studio, named["image_request"])
            regions = enhance.regions_on(named["enhancing"]) if named.get("enhancing") is not None else 0
            return work * (1 + regions) + (zero_gpu.text_work(EXPANSION_TOKENS) if named["expand"] else 0.0)

        self.generation = GpuWork(ctx, generate_on_gpu, generation_work)
        self.previewing = previewing_work(ctx)
        self.runs = LatestRuns()  # each browser's latest run, for a page that comes back

    def start(self, image_request: ImageRequest, expand: bool, folder: Path, request: gr.Request | None, key: str,
              flag: CancelFlag | None = None, grace: float = 0.0, enhancing: EnhanceRequest | None = None) -> Run:
        ctx = self.ctx
        rules = roles.limits_for(ctx, request)
        if rules is not None:  # a student: the class's limits, and the class's models
            rules.check_load(gpu_seconds.generation_load(ctx.studio, image_request))
            rules.check_model(image_request.checkpoint, checkpoints.offered(ctx.settings))
        what = f"Image: {image_request.image_number} × {image_request.prompt[:40]!r}"
        return self.generation.start(request, key, what, image_request, expand, str(folder),
                                     ctx.studio.class_rules.limits.safety, flag=flag, grace=grace, enhancing=enhancing)


def request_from(form: ImageForm, values: dict, settings: Settings) -> ImageRequest:
    """The request the page's controls (``values``: component -> value) describe, its declared
    fields checked."""
    data = {name: values[component] for name, component in form.fields.items() if component in values}
    for name in ("steps", "cfg", "width", "height"):
        data[name] = _number_or_none(data.get(name), whole=name != "cfg")
    data["styles"] = tuple(data.get("styles") or ())
    # A family without presets (FLUX, Z-Image, SD 1.5) shows none selected; the request keeps the default.
    data["performance"] = data.get("performance") or presets.DEFAULT_PERFORMANCE
    data["scheduler"] = data.get("scheduler") or None
    data["loras"] = tuple((values[n], values[w]) for n, w in zip(form.lora_names, form.lora_weights)
                          if values[n] not in (None, "", "None"))
    data["image_prompts"] = form.prompt_panel.slots(values)
    return checked(ImageRequest(**data), settings)


def enhancing_from(form: ImageForm, values: dict, settings: Settings) -> EnhanceRequest | None:
    """The Enhance section's request when it is on (its picture: each image the run makes)."""
    if not values.get(form.enhance_toggle):
        return None
    return request_of(EnhanceRequest, {**values_of(form.enhance, values), "image": enhance.GENERATED},
                      settings=settings)


def wire_generation(ctx: TabContext, work: Generation, form: ImageForm) -> None:
    """The Generate button (and Enter in the prompt), Cancel, and what the page shows as it runs."""
    t, settings = ctx.t, ctx.settings
    status, gallery, details, preview, history = form.status, form.gallery, form.details, form.preview, form.history

    def ui_generate(values: dict, request: gr.Request = None, progress=gr.Progress()):
        from studio.pictures import outputs

        image_request = request_from(form, values, settings)
        folder = owner.folder_for(ctx, request, values[ctx.browser_id])
        key = owner.key_for(ctx, request, values[ctx.browser_id])
        say = t.for_request(request)
        # The work goes on a while if the page goes away: a reloaded page finds the run, its form
        # and its progress (tabs.image.follow), and its images land in the history.
        run = work.start(image_request, values[form.expand_toggle], folder, request, key, flag=values[form.cancel_flag],
                         grace=RELOAD_GRACE_SECONDS, enhancing=enhancing_from(form, values, settings))
        work.runs.start(key, run, {c: values[c] for c in form.restored if c in values})
        shown: list = []
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
                shown.append(gallery_item(event.item))
                summaries.append(event.item.parameters)
                notes = "\n\n".join(f"> {n}" for n in event.item.notes)
                # The newest image is the selected one: an enlarged view shows the image the details describe.
                yield {gallery: gr.Gallery(value=list(shown), selected_index=len(shown) - 1),
                       preview: event.item.image, form.last_results: list(summaries),
                       details: details_markdown(event.item.parameters, say) + ("\n\n" + notes if notes else ""),
                       form.selected_path: event.item.path}
            elif isinstance(event, Finished):
                yield {status: say("image.status_done").format(count=len(shown)), history: outputs.history(folder)}
            elif isinstance(event, Stopped):
                yield {status: say("image.status_cancelled").format(count=len(shown)), history: outputs.history(folder)}

    inputs = set(form.fields.values()) | set(form.lora_names) | set(form.lora_weights) | {form.expand_toggle} | \
        set(form.prompt_panel.inputs) | {form.enhance_toggle} | inputs_of(form.enhance) | {ctx.browser_id}
    run_outputs = [status, gallery, details, preview, form.last_results, form.selected_path, history]
    cancellable_run(ctx, [form.generate_button.click, form.fields["prompt"].submit], ui_generate, inputs,
                    run_outputs, form.cancel_flag, status)
    wire_cancel(ctx, form.cancel_button, form.cancel_flag, status)


def api_endpoints(ctx: TabContext, work: Generation) -> dict[str, Any]:
    """/generate_image, /image_prompt_preview and /styles: the same functions as the page."""
    settings = ctx.settings

    def generate_image(
        prompt: str,
        negative_prompt: str = "",
        styles: list[str] | None = None,  # noqa: A002 - the API's word
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
        **declared: Any,
    ) -> dict:
        """Generate `image_number` images (1-8). styles: names from /styles, applied in order.
        performance: Quality | Speed | Extreme Speed | Lightning. aspect_ratio e.g. '1152×896'
        (or width and height). seed -1 = random; image i uses seed + i. checkpoint: '' for the
        default, a Hub id, or a file in the checkpoints folder. loras: [[file, weight], ...].
        steps 0 / cfg None / scheduler '' follow the preset. expand_into_english: an LLM first
        turns the prompt into an English image prompt (for SDXL, SD 1.5 and FLUX; Z-Image reads Chinese).
        image_prompts: up to 4 slots [{"image": handle_file(...), "type": "ImagePrompt" | "PyraCanny" |
        "CPDS" | "FaceSwap", "weight": 0-2, "stop_at": 0-1}] (weight / stop_at left out = the type's defaults).
        A [[a, b]] array in the prompt draws one image per item. Returns images with their seeds, final
        prompts and metadata."""
        image_request = base_request(ctx, {**locals(), **declared})
        run = work.start(image_request, expand_into_english, owner.folder_for(ctx, request), request,
                         owner.key_for(ctx, request))
        notes: list[str] = []
        for event in run_events(run):
            if isinstance(event, PromptExpanded):
                notes = list(event.notes)
            elif isinstance(event, Stopped):
                raise Cancelled()
        return {"images": [{"image": gr.FileData(path=r.path), **r.summary()} for r in run.value or run.delivered],
                "prompt_expansion": notes}

    def image_prompt_preview(image: gr.FileData, type: api_types.ImagePromptType = "PyraCanny",  # noqa: A002
                             request: gr.Request = None) -> dict:
        """What an image prompt gives the model: the PyraCanny or CPDS map (the picture's size), the
        square the image encoder reads (ImagePrompt) or the largest face, cropped (FaceSwap)."""
        path = uploaded(image, "the picture to preview")
        shown = work.previewing.call(request, owner.key_for(ctx, request), f"Image prompt preview: {type}", path, type)
        return {"image": gr.FileData(path=_save_preview(shown)), "width": shown.width, "height": shown.height,
                "type": image_prompts.slots.type_name(type)}

    def list_styles() -> list[dict]:
        """Every style: name, one-line description, prompt template ({prompt} is replaced) and negative;
        Fooocus V2, Random Style and the user's own style files included."""
        return styles.listing(settings.styles_dir, special=True)

    return {"generate_image": with_declared(generate_image), "image_prompt_preview": image_prompt_preview,
            "styles": list_styles}


def base_request(ctx: TabContext, named: dict[str, Any]) -> ImageRequest:
    """The request /generate_image's parameters (by name) describe; the declared fields checked."""
    return request_of(ImageRequest, {
        **named, "styles": tuple(named.get("styles") or ()),
        "loras": tuple(tuple(pair) for pair in named.get("loras") or ()), "width": named.get("width") or None,
        "height": named.get("height") or None, "steps": named.get("steps") or None,
        "scheduler": named.get("scheduler") or None, "image_prompts": api_slots(named.get("image_prompts")),
    }, settings=ctx.settings)


def image_parameters(endpoint: Callable[..., dict]) -> list[inspect.Parameter]:
    """/generate_image's parameters that describe the picture (not its API-only extras)."""
    return [p for p in inspect.signature(endpoint).parameters.values()
            if p.name not in ("request", "expand_into_english", "image_number")]


def with_declared(endpoint: Callable[..., dict]) -> Callable[..., dict]:
    """``endpoint`` with ImageRequest's declared fields (sharpness, adaptive CFG, ADM, CLIP skip)
    as parameters of their own, before ``request``: typed and defaulted where they are declared,
    never written twice."""
    own = [p for p in inspect.signature(endpoint).parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    request_parameter = own.pop()  # gr.Request: Gradio fills it, and it stays last
    declared = [inspect.Parameter(f.api_name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=f.default,
                                  annotation=_api_annotation(f)) for f, _ in api_fields(ImageRequest)]
    signature = inspect.Signature([*own, *declared, request_parameter], return_annotation=dict)

    def call(*args: Any, **kwargs: Any) -> dict:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return endpoint(**bound.arguments)

    call.__signature__ = signature  # type: ignore[attr-defined]
    call.__name__ = call.__qualname__ = endpoint.__name__
    call.__doc__ = documented(inspect.getdoc(endpoint) or "", api_fields(ImageRequest))
    call.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()} | {"return": dict}
    return call


def _api_annotation(field: Declared) -> Any:
    kind = int if field.kind == "int" else float
    return kind | None if field.spec.optional else kind
