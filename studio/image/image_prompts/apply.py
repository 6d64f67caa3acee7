"""Image prompts inside one generation: the models pinned, the maps made, the pipeline
assembled, this run's part of the adapter set on the shared UNet, and the per-step scales.

    with prepared(studio, family, request.image_prompts, task, width, height, steps) as run:  # maps, crops, pins
        pipe = family.task_pipeline(base, run.task(task), scheduler, run.components())
        with generate.hold_adapters(model, run, lora_key, switch):  # the gate; run.load_into(pipe) in switch
            run.start(pipe, steps)  # then pipe(**kwargs, **run.call_kwargs()), whose step
                                    # callback calls run.on_step(pipeline, step)

- ControlNets (PyraCanny, CPDS) are per call: ``controlnet_conditioning_scale`` is the weight
  and ``control_guidance_end`` the stop-at; several run through diffusers' multi-ControlNet.
  A pipeline without ``control_guidance_end`` (Z-Image's) takes one control image, and gets a
  per-request view of the cached ControlNet that applies the stop-at itself.
- IP-Adapters (ImagePrompt, FaceSwap) live in the shared UNet's attention processors once
  ``load_ip_adapter`` has run, so the adapter set is part of the checkpoint's adapter-gate key
  (with the LoRAs): a request that wants another set (none included) waits until the model
  is idle and switches, and a plain request after an image-prompt one unloads them first, so
  it runs on the untouched UNet (any IP-Adapter attention processor counts, so a load that
  failed midway is undone too; a failed switch also cleans up before it re-raises). Their
  scales change during the run (each slot's own stop), which is state of that UNet too:
  requests with IP-Adapters run one at a time, under a lock taken inside the gate.
- A slot that acts on no step (weight 0, or a stop-at below one step of the run) is left out,
  with a note.
- The edit tools' img2img and inpaint runs take them too (Fooocus mixes image prompts with
  vary, upscale and inpaint): ControlNets through the family's ControlNet img2img / inpaint
  pipeline, where the picture to redraw is ``image`` and the map ``control_image``; IP-Adapters
  through any pipeline whose call takes ``ip_adapter_image``. A family without such a pipeline
  says so before anything loads. Stop-at counts the steps the run really runs (diffusers counts
  ``control_guidance_end`` over them).
- Scales use diffusers' own IP-Adapter scaling (``set_ip_adapter_scale``), set at the start
  of every call and again after the step where a slot passes its stop-at: slot i's weight
  while it acts, 0 after.
"""

from __future__ import annotations

import logging
import threading
import weakref
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Iterator

from studio.errors import BadInput
from studio.image.image_prompts import preprocess
from studio.image.image_prompts.slots import CONTROLNET_TYPES, ImagePromptSlot, active_at

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    import numpy as np
    import torch
    from diffusers import DiffusionPipeline, UNet2DConditionModel
    from PIL import Image
    from transformers import CLIPImageProcessor, PreTrainedModel

    from studio.context import StudioContext
    from studio.image.families.base import ImageFamily
    from studio.image.loading import ImageModel

log = logging.getLogger(__name__)

_locks: "weakref.WeakKeyDictionary[Any, threading.Lock]" = weakref.WeakKeyDictionary()
_locks_guard = threading.Lock()


def _exclusive_lock(model: ImageModel) -> threading.Lock:
    """One lock per loaded checkpoint, taken by requests whose IP-Adapter scales change per step."""
    with _locks_guard:
        return _locks.setdefault(model, threading.Lock())


@lru_cache(maxsize=8)
def _feature_extractor(side: int) -> CLIPImageProcessor:
    """The CLIP image processor for an encoder of ``side`` pixels (what load_ip_adapter makes)."""
    from transformers import CLIPImageProcessor

    return CLIPImageProcessor(size=side, crop_size=side)


@dataclass
class Control:
    slot: ImagePromptSlot
    model: torch.nn.Module  # a ControlNet
    image: Image.Image  # the map, at the generation size


@dataclass
class Adapter:
    slot: ImagePromptSlot
    source: str  # the adapter's model id: part of the gate key
    weights: Any  # IPAdapterWeights
    image: Image.Image  # what the image encoder reads


@dataclass
class ImagePromptRun:
    controls: list[Control] = field(default_factory=list)
    adapters: list[Adapter] = field(default_factory=list)
    encoder: PreTrainedModel | None = None  # the CLIP image encoder the IP-Adapters read
    notes: list[str] = field(default_factory=list)
    total: int = 1
    # False: the family's ControlNet pipeline has no control_guidance_end (Z-Image): one control
    # image, given as ``control_image``, stopped by this request's own view of the ControlNet.
    guidance_end: bool = True
    base_task: str = "txt2img"  # the generation's task: img2img and inpaint give the maps as control_image
    _set: list[float] = field(default_factory=list)  # the IP-Adapter scales the UNet holds now
    _control_on: bool = True  # whether the (single, self-stopped) ControlNet acts on the next step

    # -- the pipeline --

    def task(self, task: str) -> str:
        return pipeline_task(task, bool(self.controls))

    def components(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.controls:
            if not self.guidance_end:
                extra["controlnet"] = _stopped_view(self.controls[0], lambda: self._control_on)
            elif len(self.controls) == 1:
                extra["controlnet"] = self.controls[0].model
            else:
                from diffusers.models.controlnets.multicontrolnet import MultiControlNetModel

                extra["controlnet"] = MultiControlNetModel([c.model for c in self.controls])
        if self.adapters:
            extra["image_encoder"] = self.encoder
            extra["feature_extractor"] = _feature_extractor(int(self.encoder.config.image_size))
        return extra

    # -- this run's part of the adapter set on the shared UNet (held by studio.image.generate) --

    def adapter_key(self) -> tuple:
        """What this run adds to the LoRAs' key of the adapter set: its IP-Adapters."""
        return (("image_prompts",) + tuple(a.source for a in self.adapters),) if self.adapters else ()

    def exclusive(self, model: ImageModel) -> threading.Lock | nullcontext[None]:
        """The checkpoint's exclusive lock when this run's IP-Adapter scales change per step."""
        return _exclusive_lock(model) if self.adapters else nullcontext()

    def load_into(self, pipe: DiffusionPipeline) -> None:
        """This run's IP-Adapters into the UNet, through the run's own pipeline (which holds the
        image encoder, so the cached base pipeline keeps no reference to one)."""
        if self.adapters:
            count = len(self.adapters)
            pipe.load_ip_adapter([a.weights.state_dicts() for a in self.adapters], subfolder=[None] * count,
                                 weight_name=[None] * count, image_encoder_folder=None)

    # -- the call --

    def call_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if not self.guidance_end and self.controls:
            control = self.controls[0]
            kwargs.update(control_image=control.image, controlnet_conditioning_scale=control.slot.weight)
        elif len(self.controls) == 1:
            control = self.controls[0]
            kwargs.update({self._map_argument: control.image}, controlnet_conditioning_scale=control.slot.weight,
                          control_guidance_end=control.slot.stop_at)
        elif self.controls:
            kwargs.update({self._map_argument: [c.image for c in self.controls]},
                          controlnet_conditioning_scale=[c.slot.weight for c in self.controls],
                          control_guidance_end=[c.slot.stop_at for c in self.controls])
        if self.adapters:
            kwargs["ip_adapter_image"] = [a.image for a in self.adapters]
        return kwargs

    @property
    def _map_argument(self) -> str:
        """Where the ControlNet pipeline takes the maps: ``image`` drawing from text, but
        ``control_image`` when ``image`` is the picture being redrawn."""
        return "image" if self.base_task == "txt2img" else "control_image"

    def scales(self, step: int, total: int) -> list[float]:
        return [a.slot.weight if active_at(step, total, a.slot.stop_at) else 0.0 for a in self.adapters]

    def start(self, pipe: DiffusionPipeline, total: int) -> None:
        """Every call starts from each slot's weight (a cancelled or finished run left zeros)."""
        self.total = total
        if self.controls and not self.guidance_end:
            self._control_on = active_at(0, total, self.controls[0].slot.stop_at)
        if self.adapters:
            self._set = self.scales(0, total)
            pipe.set_ip_adapter_scale(self._set)

    def on_step(self, pipeline: DiffusionPipeline, step: int) -> None:
        """After step ``step``: the scales for the next one (a slot past its stop-at gives 0).
        Set only when one changes: diffusers walks every attention layer to set them."""
        total = getattr(pipeline, "num_timesteps", None) or self.total
        if self.controls and not self.guidance_end:
            self._control_on = active_at(step + 1, total, self.controls[0].slot.stop_at)
        if self.adapters:
            wanted = self.scales(step + 1, total)
            if wanted != self._set:
                self._set = wanted
                pipeline.set_ip_adapter_scale(wanted)

    def a1111_fields(self) -> dict[str, str]:
        """The A1111 settings line's entry: each slot's type, weight / stop-at and picture hash."""
        items = [*self.controls, *self.adapters]
        return {"Image prompts": ", ".join(item.slot.a1111() for item in items)} if items else {}


def _stopped_view(control: Control, acting: Callable[[], bool]) -> torch.nn.Module:
    """This request's own view of a shared ControlNet (same weights and submodules, no copy) whose
    conditioning scale is the slot's weight while ``acting()`` and 0 after its stop-at. Being the
    request's own, it also takes what the pipeline attaches to it (Z-Image's pipeline hangs the
    transformer's embedders on its ControlNet), leaving the cached ControlNet untouched."""
    import copy

    shared = control.model
    view = copy.copy(shared)
    for table in ("_modules", "_parameters", "_buffers"):
        object.__setattr__(view, table, dict(getattr(shared, table)))
    forward = type(shared).forward
    weight = control.slot.weight

    def stopped(*args: Any, **kwargs: Any) -> Any:
        kwargs["conditioning_scale"] = weight if acting() else 0.0
        return forward(view, *args, **kwargs)

    object.__setattr__(view, "forward", stopped)
    return view


def pipeline_task(task: str, controls: bool) -> str:
    """The family pipeline a generation of ``task`` runs: its ControlNet variant when maps steer it
    ("controlnet" for text-to-image, "controlnet_img2img", "controlnet_inpaint")."""
    if not controls:
        return task
    return "controlnet" if task == "txt2img" else f"controlnet_{task}"


def _takes(family: ImageFamily, argument: str, task: str = "controlnet") -> bool:
    """Whether the call of the family's ``task`` pipeline takes ``argument``."""
    import inspect

    return argument in inspect.signature(family.pipeline_class(task).__call__).parameters


_TASK_WORDS = {"img2img": "redrawing a picture (Vary, the upscale refine)",
               "inpaint": "repainting part of a picture (Inpaint, Outpaint, Enhance)"}


def _check_task(family: ImageFamily, task: str, active: list[ImagePromptSlot]) -> None:
    """A sentence when ``family`` cannot steer a ``task`` run with these slots: its diffusers
    pipelines decide (a ControlNet variant for the task; ``ip_adapter_image`` in its call)."""
    if task == "txt2img" or not active:
        return
    controls = any(slot.type in CONTROLNET_TYPES for slot in active)
    wanted = pipeline_task(task, controls)
    if wanted not in family.pipeline_classes:
        able = [f.label for f in _families() if wanted in f.pipeline_classes]
        raise BadInput(f"{family.label} has no ControlNet pipeline for {_TASK_WORDS.get(task, task)}, so PyraCanny "
                       f"and CPDS cannot steer it here: clear them for this tool"
                       + (f", or pick a {' or '.join(able)} checkpoint." if able else "."))
    if any(slot.type not in CONTROLNET_TYPES for slot in active) and not _takes(family, "ip_adapter_image", wanted):
        raise BadInput(f"{family.label}'s pipeline for {_TASK_WORDS.get(task, task)} takes no IP-Adapter, so "
                       "ImagePrompt and FaceSwap cannot steer it here: clear them for this tool.")


def _families() -> list[ImageFamily]:
    from studio.image.families import FAMILIES

    return list(FAMILIES.values())


def _has_ip_adapter(unet: UNet2DConditionModel) -> bool:
    """Whether any IP-Adapter layer is in ``unet``. diffusers installs the attention processors
    before it sets ``encoder_hid_dim_type``, so a load that failed midway shows only in them."""
    from diffusers.models.attention_processor import (IPAdapterAttnProcessor, IPAdapterAttnProcessor2_0,
                                                      IPAdapterXFormersAttnProcessor)

    if getattr(unet.config, "encoder_hid_dim_type", None) == "ip_image_proj":
        return True
    kinds = (IPAdapterAttnProcessor, IPAdapterAttnProcessor2_0, IPAdapterXFormersAttnProcessor)
    return any(isinstance(processor, kinds) for processor in unet.attn_processors.values())


def unload(base: DiffusionPipeline) -> None:
    """Take every IP-Adapter out of the base's UNet (attention processors back to plain ones)."""
    unet = getattr(base, "unet", None)
    if unet is not None and _has_ip_adapter(unet):
        base.unload_ip_adapter()


def clean(base: DiffusionPipeline) -> None:
    """After a failed switch: IP-Adapters and LoRAs out, so the shared UNet is plain again (the
    gate marks the set unknown, so the next request switches anyway). A second failure here is
    logged, not raised: the first one is the news."""
    for undo in (unload, lambda b: b.unload_lora_weights()):
        try:
            undo(base)
        except Exception:  # noqa: BLE001 - see above
            log.exception("cleaning up after a failed adapter switch")


def unsupported(family: ImageFamily, kind: str) -> str | None:
    """Why ``family`` cannot take an image prompt of type ``kind`` (None when it can)."""
    if kind in family.image_prompt_models:
        return None
    return f"{family.label} has no {kind} image prompt. {family.image_prompt_note}".strip()


def _to_pil(rgb: np.ndarray) -> Image.Image:
    from PIL import Image

    return Image.fromarray(rgb, "RGB")


def _idle_why(slot: ImagePromptSlot, steps: int | None) -> str | None:
    """Why ``slot`` acts on no step of ``steps`` (None: it acts on some). Unknown steps: only
    weight 0 and stop-at 0 can tell."""
    if slot.weight == 0:
        return "weight 0"
    if slot.stop_at == 0:
        return "stop-at 0"
    if steps is not None and not active_at(0, steps, slot.stop_at):
        return f"stop-at {slot.stop_at:g}, less than one step of {steps} (1/{steps} = {1 / steps:.3g})"
    return None


def _active(family: ImageFamily, slots: tuple[ImagePromptSlot, ...], task: str, steps: int | None,
            notes: list[str]) -> list[tuple[int, ImagePromptSlot]]:
    """The numbered slots that act on at least one step; a note for each one left out, and a
    sentence for one this family or task cannot take."""
    active = []
    for number, slot in enumerate(slots, 1):
        why = _idle_why(slot, steps)
        if why:
            notes.append(f"Image prompt {number} ({slot.type}) has {why}: it acts on no step, so it was left out.")
            continue
        why_not = unsupported(family, slot.type)
        if why_not:
            raise BadInput(why_not)
        active.append((number, slot))
    _check_task(family, task, [slot for _, slot in active])
    return active


def model_entries(family: ImageFamily, slots: tuple[ImagePromptSlot, ...], task: str, steps: int | None
                  ) -> list[str]:
    """The catalog entries a request's image prompts pin (ControlNets, IP-Adapters, the image
    encoder), sorted: every request pins them in one order, so two never wait for each other."""
    return _entries_of(family, [slot for _, slot in _active(family, slots, task, steps, [])])


def _entries_of(family: ImageFamily, active: list[ImagePromptSlot]) -> list[str]:
    names = {family.image_prompt_models[slot.type] for slot in active}
    if any(slot.type not in CONTROLNET_TYPES for slot in active):
        names.add("image_encoder")
    return sorted(names)


@contextmanager
def prepared(studio: StudioContext, family: ImageFamily, slots: tuple[ImagePromptSlot, ...], task: str, width: int,
             height: int, steps: int | None = None, where: str = "device") -> Iterator[ImagePromptRun]:
    """Everything image prompts add to a generation of ``steps`` steps. Every check, map and
    face crop is done before any model is pinned, so a bad slot stops the request before
    anything is drawn. A slot that would act on no step is left out, with a note that says so.
    ``where``: where the cache pins their models (see ModelCache.use; "host" for an offloaded run)."""
    result = ImagePromptRun(base_task=task)
    active = _active(family, slots, task, steps, result.notes)
    controls = [slot for _, slot in active if slot.type in CONTROLNET_TYPES]
    if controls:
        result.guidance_end = _takes(family, "control_guidance_end", pipeline_task(task, True))
        if not result.guidance_end and len(controls) > 1:
            raise BadInput(f"{family.label} takes one PyraCanny or CPDS picture at a time (its ControlNet reads one "
                           f"control image); this request has {len(controls)}.")
    made: list[tuple[ImagePromptSlot, Image.Image]] = []
    for number, slot in active:
        if slot.type in CONTROLNET_TYPES:
            made.append((slot, _to_pil(preprocess.control_map(slot.type, preprocess.fit(slot.rgb, width, height)))))
        elif slot.type == "FaceSwap":
            made.append((slot, _to_pil(preprocess.largest_face(studio, slot.image, number))))
        else:
            made.append((slot, _to_pil(slot.rgb)))
    with ExitStack() as stack:
        pins: dict[str, tuple[Any, str]] = {}
        for entry in _entries_of(family, [slot for _, slot in active]):  # one order for every request
            spec = studio.spec(entry)
            pins[entry] = stack.enter_context(studio.cache.use(spec, where)), spec.source

        for slot, image in made:
            module, source = pins[family.image_prompt_models[slot.type]]
            if slot.type in CONTROLNET_TYPES:
                result.controls.append(Control(slot, module, image))
            else:
                result.adapters.append(Adapter(slot, source, module, image))
        if result.adapters:
            result.adapters.sort(key=lambda a: a.source)  # one canonical order: the same set, the same key
            result.encoder = pins["image_encoder"][0]
        yield result
