"""Text (or image) to images: the one function the Image tab, the edit tools and the API call.

    results = generate_images(studio, ImageRequest(prompt="a red fox"), folder)

What happens, in order: the request is checked; the checkpoint comes from the shared cache
(one entry per checkpoint); its family decides sizes, defaults and the scheduler; the
performance preset is applied; each image's prompt is made (array item, wildcards, Fooocus V2,
styles: studio.image.image_texts); a pipeline for the task is assembled over the cached
modules with ``from_pipe`` and its own scheduler; LoRAs are switched in through the
checkpoint's adapter gate; then seed i (seed + i) is drawn once per array item, through
Fooocus's guidance hooks (studio.image.guidance), previewed every step from its latents,
saved with its parameters as soon as it is done, and delivered.
"""

from __future__ import annotations

import inspect
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from studio import progress
from studio.errors import BadInput, OutOfMemory
from studio.image import (
    checkpoints, clip_skip, guidance, memory, placement, presets, prompt_arrays, prompt_encoding, prompt_syntax,
    styles,
)
from studio.image.families.base import ImageFamily
from studio.image.image_texts import ImageTexts, TextSources, image_texts, sources
from studio.image.image_prompts import apply as image_prompts
from studio.image.loras import LoraFile, active_key, switch_to
from studio.image.previews import latents_to_rgb
from studio.image.request import ImageRequest, ImageResult, checked, images_in, resolve_seed
from studio.pictures import metadata
from studio.progress import PREVIEW_SECONDS
from studio.replicated import model_key, replicated

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from types import ModuleType

    from diffusers import DiffusionPipeline

    from studio.context import StudioContext
    from studio.image.loading import ImageModel
    from studio.progress import TaskLike

APP_NAME = "GenAI Studio"


@dataclass
class Plan:
    """A request with everything resolved against its model family."""

    request: ImageRequest
    family: ImageFamily
    width: int
    height: int
    steps: int
    cfg: float
    scheduler: str
    prompt: str  # styles applied (each image's own prompt: studio.image.image_texts)
    negative_prompt: str
    loras: list[LoraFile]
    seed: int
    notes: list[str] = field(default_factory=list)
    hooks: guidance.Guidance | None = None  # Fooocus's guidance hooks as they apply here
    clip_skip: int | None = None  # the pipeline's clip_skip argument (None: its own layer)
    sources: TextSources = field(default_factory=TextSources)
    combinations: int = 1  # images per seed: the prompt's array combinations


def _size(request: ImageRequest, family: ImageFamily) -> tuple[int, int]:
    if request.task in ("img2img", "inpaint"):  # the starting image's size, rounded down to what the model takes
        m = family.defaults.size_multiple
        width, height = request.init_image.size
        return max(m, width // m * m), max(m, height // m * m)
    if request.width and request.height:
        width, height = request.width, request.height
    else:
        width, height = presets.parse_aspect(request.aspect_ratio)
    checkpoints.check_sizes(width, height, family.defaults.size_multiple, family.label)
    return width, height


@dataclass(frozen=True)
class Sampling:
    """How a request is sampled once its performance preset and the family's defaults apply."""

    steps: int
    cfg: float
    scheduler: str
    loras: list[LoraFile]  # the preset's LoRA first, then the request's
    distilled: bool = False  # a few-step LoRA preset: no guidance hooks


def resolve(studio: StudioContext, request: ImageRequest, family: ImageFamily, owner: str | None = None) -> Sampling:
    """The one rule for steps, CFG, sampler and LoRAs, shared by generation and the edit tools
    (which check it before their long work): empty fields follow the preset (SDXL) or the
    family's defaults; a sampler or LoRA the family cannot use is refused with a sentence."""
    loras = checkpoints.lora_files(studio, request.loras, owner)
    rule = presets.followed(family, request.performance, request.steps, request.cfg, request.scheduler)
    steps, cfg, scheduler, distilled = rule.steps, rule.cfg, rule.scheduler, rule.distilled
    if rule.lora:
        loras = [checkpoints.preset_lora(studio, rule.lora)] + loras
    if scheduler not in family.schedulers:
        raise BadInput(
            f"Sampler {scheduler[:40]!r} is not available for {family.label}. Pick one of: {', '.join(family.schedulers)}."
        )
    if loras and not family.uses("loras"):
        raise BadInput(f"{family.label} takes no LoRAs here: {family.unused['loras']}")
    return Sampling(steps, cfg, scheduler, loras, distilled)


def plan(studio: StudioContext, request: ImageRequest, family: ImageFamily, base: DiffusionPipeline,
         owner: str | None = None) -> Plan:
    notes: list[str] = []
    width, height = _size(request, family)
    sampling = resolve(studio, request, family, owner)
    steps, cfg, scheduler, loras = sampling.steps, sampling.cfg, sampling.scheduler, sampling.loras
    words = sources(studio)
    # The first image's words stand for all in the notes (the CLIP window, an empty prompt).
    first = prompt_arrays.pick(request.prompt, 0).prompt
    prompt, negative = styles.apply(first, request.negative_prompt, request.styles, words.styles)
    if not prompt:
        notes.append("No prompt: the model draws whatever it likes.")
    if negative and not family.guidance_active(cfg):
        notes.append(f"The negative prompt has no effect at CFG {cfg:g}: {family.label} uses it only above {family.guidance_threshold:g}.")
    notes += prompt_window_notes(base, family, prompt)
    hooks, hook_notes = guidance.resolve(
        family, cfg, request.sharpness, request.adaptive_cfg,
        (request.adm_scaler_positive, request.adm_scaler_negative, request.adm_scaler_end), sampling.distilled)
    notes += hook_notes
    if request.clip_skip is not None and not family.uses("clip_skip"):
        notes.append(f"CLIP skip does not apply here: {family.unused['clip_skip']}")
    elif request.clip_skip is not None:
        clip_skip.check_layers(base, request.clip_skip)
    combinations = prompt_arrays.combinations(request.prompt)
    if combinations > 1:
        notes.append(f"The prompt's arrays give {combinations} images for each seed, drawn with the same seed.")
    return Plan(request, family, width, height, steps, cfg, scheduler, prompt, negative, loras,
                resolve_seed(request.seed), notes, hooks, clip_skip.pipeline_argument(family, request.clip_skip),
                words, combinations)


def prompt_window_notes(base: DiffusionPipeline, family: ImageFamily, prompt: str) -> list[str]:
    """Say how a CLIP prompt past its 77-token window is read (in chunks), and what, past the
    most chunks read, is never seen."""
    window = family.prompt_window
    if window is None or not family.prompt_weights or not prompt:
        return []
    tokenizer = getattr(base, window.tokenizer_attr)
    tokens = prompt_encoding.token_count(tokenizer, prompt)
    if tokens <= prompt_encoding.CHUNK_TOKENS:
        return []
    chunks = prompt_encoding.chunks_for(tokens)
    note = (f"The prompt is {tokens} {window.name} tokens: it is encoded in {chunks} chunks of {window.limit}, "
            f"each with its own start and end marks")
    _fragments, never_read = prompt_encoding.kept(tokenizer, prompt)
    never_read = never_read.strip()
    if not never_read:
        return [note + ", so all of it is read."]
    shown = never_read if len(never_read) <= 120 else f"{never_read[:80]} … {never_read[-40:]}"
    return [note + f"; {family.label} reads at most {prompt_encoding.MAX_CHUNKS}. Never seen: “{shown}”."]


def a1111_fields(p: Plan, seed: int, model_name: str) -> dict[str, Any]:
    fields = {
        "Steps": p.steps, "Sampler": p.scheduler, "CFG scale": f"{p.cfg:g}", "Seed": seed,
        "Size": f"{p.width}x{p.height}", "Model": model_name,
        "Styles": ", ".join(p.request.styles), "Performance": p.request.performance if p.family.uses("performance") else "",
        "Lora weights": ", ".join(f"{lora.label}: {lora.weight:g}" for lora in p.loras),
    }
    if p.family.uses("sharpness"):  # what was applied; an A1111 PNG without them was drawn without
        fields.update(p.hooks.a1111_fields())
    if p.family.uses("clip_skip") and p.request.clip_skip is not None:  # as A1111: only when one was chosen
        fields["Clip skip"] = p.request.clip_skip
    fields["Version"] = APP_NAME
    if p.request.task != "txt2img":
        fields["Denoising strength"] = f"{p.request.strength:g}"
    return fields


def _route(arguments: dict[str, Any]) -> str:
    request = arguments["request"]
    return model_key("image", request.checkpoint, *(f"{name}:{weight}" for name, weight in request.loras))


def _rest(arguments: dict[str, Any], delivered: list[Any]) -> dict[str, Any]:
    """The images not yet delivered: seed i keeps seed + i, so the pixels are the same. With
    arrays a seed gives one image per item; a seed only partly delivered is drawn again whole."""
    request = arguments["request"]
    done = len(delivered) // prompt_arrays.combinations(request.prompt)
    return {**arguments, "request": replace(request, seed=request.seed + done, image_number=request.image_number - done)}


@replicated("generate_images", _route, folder="folder", owner="owner", task="task", rest=_rest)
def generate_images(studio: StudioContext, request: ImageRequest, folder: Path | None, task: TaskLike | None = None,
                    owner: str | None = None) -> list[ImageResult]:
    """Draw ``request.image_number`` images; each is saved in ``folder`` (when given) and
    delivered to ``task`` as soon as it is done. ``task`` (studio.progress.Task) also gets
    per-step progress with previews, and its Cancel stops the work within a step. ``owner``:
    whose own LoRAs may be used (by default the folder's owner)."""
    import torch

    request = checked(request, sources(studio).styles)
    spec = checkpoints.spec(studio, request.checkpoint)
    owner = owner or (Path(folder).name if folder is not None else None)  # their own LoRAs are allowed
    # First a look (nothing moves): the plan, and the memory plan that fits the budget.
    with studio.cache.use(spec, where="any") as model:
        p = plan(studio, request, model.family, model.pipeline, owner)
        mplan = placement.choose(studio, model, request, p.width, p.height, p.steps,
                                 p.family.guidance_active(p.cfg))
    if not mplan.fits:
        fp8 = "" if getattr(studio.settings, "fp8_storage", False) else ", or turn on --fp8-storage"
        raise OutOfMemory(
            f"{request.checkpoint or spec.source} cannot run here: {mplan.reason}. Free models in the Models tab, "
            f"pick a smaller size, raise --vram-budget{fp8}."
        )
    studio.cache.note(spec, mplan.note(), mplan.as_dict())
    if mplan.offloaded or mplan.vae_tiling or mplan.fp8_storage:
        p.notes.append(f"Memory plan: {mplan.note()}.")
    if mplan.fp8_storage:
        with studio.cache.use(spec, where="host") as model:  # alone with it while its weights change
            if memory.use_fp8_storage(model):
                studio.cache.remeasure(spec)
    where = "host" if mplan.offloaded else "device"
    # Every image's words before the model is held: Fooocus V2 runs GPT-2 through the same cache.
    drawn = [(p.seed + index // p.combinations, index) for index in range(images_in(request))]
    texts_of = [image_texts(studio, request.prompt, request.negative_prompt, request.styles, p.family, seed,
                            index % p.combinations, p.sources) for seed, index in drawn]
    results: list[ImageResult] = []
    with studio.cache.use(spec, where) as model, ExitStack() as stack:
        family, base = model.family, model.pipeline
        # Image prompts: maps made and their models pinned (shared cache entries) before anything is drawn.
        image_prompt_run = stack.enter_context(image_prompts.prepared(
            studio, family, request.image_prompts, request.task, p.width, p.height, steps_drawn(p), where))
        p.notes += image_prompt_run.notes
        pipe = family.task_pipeline(base, image_prompt_run.task(request.task),
                                    family.make_scheduler(base, p.scheduler), image_prompt_run.components())
        model_name = spec.source if not spec.is_tiny else f"{request.checkpoint or 'default'} ({spec.source})"
        def switch() -> None:
            switch_adapters(base, pipe, p.loras, image_prompt_run)

        with hold_adapters(model, image_prompt_run, active_key(p.loras), switch), ExitStack() as run:
            if mplan.offloaded:  # the device memory its hooks fill, counted while it runs
                run.enter_context(studio.cache.reserve(mplan.peak_bytes, f"{spec.source} ({mplan.label})"))
            run.enter_context(memory.running(pipe, mplan, studio.cache.device))
            for (seed, index), texts in zip(drawn, texts_of):
                result = _one_image(studio, pipe, p, texts, seed, index, task, torch, image_prompt_run)
                # This image alone: its seed, and its array item put in the prompt.
                per_image = replace(request, seed=seed, image_number=1, prompt=texts.request_prompt).parameters()
                result.parameters = {"request": per_image, "resolved": _resolved(p, texts, seed, model_name)}
                fields = {**a1111_fields(p, seed, Path(model_name).name), **image_prompt_run.a1111_fields()}
                a1111 = metadata.a1111_text(texts.prompt, texts.negative, fields)
                result.parameters["a1111"] = a1111
                results.append(result.save(folder))
                if task is not None:
                    task.deliver(result)
    return results


@contextmanager
def hold_adapters(model: ImageModel, image_prompt_run: image_prompts.ImagePromptRun, lora_key: tuple,
                  switch: Callable[[], None]) -> Iterator[None]:
    """This request's adapter set (its LoRAs and IP-Adapters) on the checkpoint's shared UNet,
    for the whole generation. The gate first, then, with IP-Adapters, the checkpoint's exclusive
    lock: a request never holds the lock while it waits at the gate, so requests queue at the gate
    in the order they came, and those of the same set wait for the lock inside it, side by side.
    One generation enters the gate once; ``switch`` runs when the set must change."""
    with model.adapter_gate.holding(lora_key + image_prompt_run.adapter_key(), switch):
        with image_prompt_run.exclusive(model):
            yield


def switch_adapters(base: DiffusionPipeline, pipe: DiffusionPipeline, loras: list[LoraFile],
                    image_prompt_run: image_prompts.ImagePromptRun) -> None:
    """Make this request's adapters the UNet's: every IP-Adapter out, the LoRAs switched, then
    this request's IP-Adapters in."""
    try:
        image_prompts.unload(base)
        switch_to(base, loras)
        image_prompt_run.load_into(pipe)
    except BaseException:
        image_prompts.clean(base)  # a load that failed midway leaves no adapter layer in the shared UNet
        raise


def _resolved(p: Plan, texts: ImageTexts, seed: int, model_name: str) -> dict[str, Any]:
    return {
        "family": p.family.name, "model": model_name, "width": p.width, "height": p.height, "steps": p.steps,
        "cfg": p.cfg, "scheduler": p.scheduler, "seed": seed, "prompt": texts.prompt,
        "negative_prompt": texts.negative, "loras": [[lora.label, lora.weight] for lora in p.loras],
        **({"guidance": p.hooks.record()} if p.family.uses("sharpness") else {}),
        **({"clip_skip": clip_skip.layer(p.family, p.request.clip_skip)} if p.family.uses("clip_skip") else {}),
        **texts.record(),
    }


def steps_drawn(p: Plan) -> int:
    """The steps the pipeline runs: all of them from text; int(steps × denoise) (the family's
    rounding) redrawing a picture. Image prompts' stop-at counts these."""
    if p.request.task == "txt2img":
        return p.steps
    return max(1, p.family.steps_run(p.steps, p.request.strength))


@lru_cache(maxsize=None)
def call_parameters(cls: type) -> frozenset[str]:
    return frozenset(inspect.signature(cls.__call__).parameters)


def _one_image(studio: StudioContext, pipe: DiffusionPipeline, p: Plan, texts: ImageTexts, seed: int, index: int,
               task: TaskLike | None, torch: ModuleType,
               image_prompt_run: image_prompts.ImagePromptRun | None = None) -> ImageResult:
    family = p.family
    seen = {"steps": 0, "scheduler": ""}
    last_preview = [time.monotonic()]  # the first preview after PREVIEW_SECONDS, not at step 1
    total = steps_drawn(p)
    label = progress.label("image", index=index + 1, count=images_in(p.request))

    def on_step(pipeline, step, timestep, tensors):
        seen["steps"] += 1
        if image_prompt_run is not None:
            image_prompt_run.on_step(pipeline, step)  # each image prompt's scale for the next step
        seen["scheduler"] = type(pipeline.scheduler).__name__
        if task is not None:
            preview = None
            now = time.monotonic()
            if now - last_preview[0] >= PREVIEW_SECONDS and "latents" in tensors:
                last_preview[0] = now
                latents = family.latent_image(tensors["latents"][0], p.width, p.height)
                preview = latents_to_rgb(latents, family.latent_rgb, family.latent_rgb_bias)
            task.step(seen["steps"], total, label, preview)  # raises Cancelled after Cancel
        return {}

    kwargs = dict(
        prompt=texts.prompt,
        width=p.width,
        height=p.height,
        num_inference_steps=p.steps,
        generator=torch.Generator(device="cpu").manual_seed(seed),  # same pixels on any device's RNG
        callback_on_step_end=on_step,
        **family.call_kwargs(p.cfg),
    )
    if family.uses("negative_prompt") or family.guidance_active(p.cfg):
        kwargs["negative_prompt"] = texts.negative or None
    own_skip = p.clip_skip is not None and not clip_skip.pipeline_can_skip(family, pipe)
    if family.prompt_weights and (own_skip or prompt_encoding.needs_compel(pipe, texts.prompt, texts.negative)):
        kwargs.pop("negative_prompt", None)
        kwargs.pop("prompt")
        layer = p.request.clip_skip if family.uses("clip_skip") else None
        kwargs.update(studio.cache.run(lambda: prompt_encoding.embeddings(
            pipe, family.prompt_weights, texts.prompt, texts.negative, layer)))
    elif family.prompt_weights:  # the pipeline's own encoder reads it: "(fox:1.0)" is the word, "\(" a bracket
        kwargs["prompt"] = prompt_syntax.plain(texts.prompt)
        if kwargs.get("negative_prompt"):
            kwargs["negative_prompt"] = prompt_syntax.plain(texts.negative)
        if p.clip_skip is not None:
            kwargs["clip_skip"] = p.clip_skip
    if p.request.task in ("img2img", "inpaint"):
        start = p.request.init_image.convert("RGB")
        if start.size != (p.width, p.height):
            start = start.resize((p.width, p.height))
        kwargs.update(image=start, strength=p.request.strength)
        if p.request.task == "inpaint":
            mask = p.request.mask_image.convert("L")
            kwargs["mask_image"] = mask if mask.size == start.size else mask.resize(start.size)
        if not {"width", "height"} <= call_parameters(type(pipe)):  # the image's size is the size
            kwargs.pop("width"), kwargs.pop("height")  # (FLUX's would resize it to 1024² otherwise)
    if image_prompt_run is not None:
        kwargs.update(image_prompt_run.call_kwargs())

    def draw():
        if image_prompt_run is not None:
            image_prompt_run.start(pipe, total)  # every call starts from each slot's own weight
        with guidance.hooked(pipe, p.hooks) as hooks:  # nothing at all when every hook is off
            image = pipe(**kwargs).images[0]
        return image, [guidance.PASSED_OVER] if hooks is not None and hooks.passed_over else []

    image, hook_notes = studio.cache.run(draw)
    return ImageResult(
        image=image, seed=seed, prompt=texts.prompt, negative_prompt=texts.negative, parameters={},
        steps_run=seen["steps"], scheduler_used=seen["scheduler"],
        notes=list(p.notes) + list(texts.notes) + hook_notes,
    )
