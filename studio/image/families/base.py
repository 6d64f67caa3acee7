"""What every image model family provides: one small class per family, one interface.

A family knows its diffusers pipeline classes (txt2img, img2img, inpaint), how to load a
checkpoint of its own (a diffusers folder or Hub id, or a single-file checkpoint, and how to
recognise one), its defaults, which controls of the Image tab apply to it (and why not, when
they do not), its schedulers, how to turn its latents into a cheap preview, what its prompt
expansion writes, whether the Train tab tunes it, its tiny twin and its full-size build.
Everything else in the image stack (requests, LoRAs, metadata, the tabs, the memory planner,
ZeroGPU's estimate) is written once against this interface, so a new family is one module in
this package (``studio.image.families`` finds it).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.references import resolve

if TYPE_CHECKING:
    import torch
    from diffusers import DiffusionPipeline, SchedulerMixin

# Controls of the Image tab a family may list in ``unused``: negative_prompt, performance,
# scheduler, loras, styles, sharpness, adaptive_cfg, adm_guidance (studio.image.guidance), clip_skip.


@dataclass(frozen=True)
class FamilyDefaults:
    steps: int
    cfg: float
    scheduler: str
    width: int
    height: int
    size_multiple: int  # sides must be multiples of this


@dataclass(frozen=True)
class PromptWindow:
    """How much of a prompt the text encoder reads (CLIP: 77 tokens, template included)."""

    tokenizer_attr: str
    limit: int
    name: str
    english_only: bool = True  # CLIP and T5 were trained on English captions


@dataclass(frozen=True)
class ImageFamily:
    name: str  # also its tiny twin's name, and its UI strings' key (image.family_<name>)
    label: str
    pipeline_classes: dict[str, str]  # task -> diffusers class name
    defaults: FamilyDefaults
    schedulers: tuple[str, ...]
    description: str = ""  # the Image tab's note, where assets/i18n has no image.family_<name>
    # "module:function" writing its tiny twin into an empty folder (studio.models.tiny), and
    # "module:function" returning its full-size modules by component name (studio.memory_plan).
    twin: str = ""
    full_size: str = ""
    # Weight names only its single-file checkpoints hold (original layout), and the Hub repo
    # whose component configs such a file is read with.
    single_file_markers: tuple[str, ...] = ()
    single_file_config: str = ""
    expansion_target: str = "sdxl"  # the prompt expansion's target: sdxl (tags) | zimage (sentences)
    train_note: str = ""  # why the Train tab cannot tune it (a clause); "" = it can
    # ZeroGPU's estimate: diffusion seconds per step per megapixel on a slice (studio.zero_gpu).
    step_seconds_per_mp: float = 0.45
    # The pipeline argument the CFG value goes to (FLUX: true_cfg_scale; its guidance_scale is a
    # distilled embedding that schnell does not have).
    cfg_argument: str = "guidance_scale"
    unused: dict[str, str] = field(default_factory=dict)  # control -> why it does not apply
    prompt_window: PromptWindow | None = None
    # How (word:1.3) weights and prompts past the window are encoded (studio.image.prompt_encoding):
    # "sdxl" (two CLIP encoders), "sd" (one); "" = the encoder reads no weights (they are dropped).
    prompt_weights: str = ""
    # Latent -> RGB linear approximation (one row per latent channel) and bias, for previews.
    latent_rgb: tuple[tuple[float, float, float], ...] | None = None
    latent_rgb_bias: tuple[float, float, float] = (0.0, 0.0, 0.0)
    fp16_ok: bool = True
    call_extras: dict[str, Any] = field(default_factory=dict)  # fixed keyword arguments of __call__
    lora_modules: tuple[str, ...] = ("unet",)
    guidance_threshold: float = 1.0  # CFG above this runs the negative branch (SDXL: 1)
    # Image prompt type (ImagePrompt, PyraCanny, CPDS, FaceSwap) -> the catalog entry of the model
    # that reads it; a type not listed is one this family lacks, and ``image_prompt_note`` says why.
    image_prompt_models: dict[str, str] = field(default_factory=dict)
    image_prompt_note: str = ""
    # Fixed keyword arguments of from_pretrained / from_single_file (SD 1.5: no safety checker).
    load_extras: dict[str, Any] = field(default_factory=dict)
    # How its img2img / inpaint pipelines count the steps a denoise runs: int(steps × denoise),
    # or (Z-Image's) steps minus the skipped ones rounded down, which rounds the run up.
    denoise_rounds_up: bool = False
    # The CLIP layer its pipeline reads a prompt from, counted as A1111 and Fooocus count CLIP skip
    # (1 = the last layer, 2 = the one before): what an unset CLIP skip means (studio.image.clip_skip).
    native_clip_skip: int = 1

    @property
    def reads_english_only(self) -> bool:
        """Whether its text encoder reads English only (CLIP, T5): a Chinese prompt is expanded
        into English first. Z-Image's Qwen3 reads Chinese as it is."""
        return self.prompt_window is not None and self.prompt_window.english_only

    @property
    def trainable(self) -> bool:
        return not self.train_note

    @property
    def note_key(self) -> str:
        return f"image.family_{self.name}"

    def unused_key(self, control: str) -> str:
        """The UI strings' key of why ``control`` does not apply (its English is ``unused``)."""
        return f"family.{self.name}.unused.{control}"

    @property
    def image_prompt_key(self) -> str:
        return f"family.{self.name}.image_prompts"

    def steps_run(self, steps: int, denoise: float) -> int:
        """How many of ``steps`` an img2img / inpaint run at ``denoise`` really runs."""
        if self.denoise_rounds_up:
            return steps - int(max(steps - steps * denoise, 0))
        return min(steps, int(steps * denoise))

    def latent_image(self, latents: torch.Tensor, width: int, height: int) -> torch.Tensor:
        """One image's latents as a step callback sees them -> (channels, H, W), for previews."""
        return latents

    def uses(self, control: str) -> bool:
        return control not in self.unused

    def pipeline_class(self, task: str) -> type[DiffusionPipeline]:
        if task not in self.pipeline_classes:
            raise KeyError(f"{self.label} has no {task} pipeline")
        import diffusers

        return getattr(diffusers, self.pipeline_classes[task])

    def torch_dtype(self, requested: torch.dtype, device: str) -> torch.dtype:
        """The dtype to load in: the studio's choice, unless this family cannot run in it."""
        import torch

        if requested == torch.float16 and not self.fp16_ok:
            # Reported to give black / NaN images: bf16 where the device has it, else fp32.
            bf16 = device == "cuda" and torch.cuda.is_bf16_supported()
            return torch.bfloat16 if bf16 else torch.float32
        return requested

    # -- loading --

    def load(self, location: str, dtype: torch.dtype, hub_kwargs: dict[str, Any]) -> DiffusionPipeline:
        """The txt2img pipeline of a diffusers folder or Hub id, on the CPU."""
        pipe = self.pipeline_class("txt2img").from_pretrained(location, dtype=dtype, **self.load_extras, **hub_kwargs)
        return self.prepared(pipe)

    def load_single_file(self, path: Path, dtype: torch.dtype, config: str | None) -> DiffusionPipeline:
        """A single-file checkpoint (what Fooocus / A1111 users keep in a models folder)."""
        kwargs = {"dtype": dtype, **self.load_extras}
        if config:
            kwargs["config"] = config
        pipe = self.pipeline_class("txt2img").from_single_file(str(path), **kwargs)
        return self.prepared(pipe)

    def prepared(self, pipe: DiffusionPipeline) -> DiffusionPipeline:
        import torch

        pipe.set_progress_bar_config(disable=True)  # progress goes to the studio's own reporter
        if torch.cuda.is_available() and hasattr(pipe, "vae") and hasattr(pipe.vae, "enable_tiling"):
            # Tiles only above the VAE's own sample size (1024 px for SDXL and Z-Image): large
            # images decode in bounded GPU memory, the usual sizes exactly as before.
            pipe.vae.enable_tiling()
        return pipe

    # -- per request --

    def task_pipeline(self, base: DiffusionPipeline, task: str, scheduler: SchedulerMixin,
                      extra: dict[str, Any] | None = None) -> DiffusionPipeline:
        """A pipeline for ``task`` over the cached base's modules (no copy), with this
        request's own scheduler: schedulers, and the per-call values a pipeline keeps on
        itself, are per run, so requests never share a pipeline object.

        Built straight from the base's components and config values, which is what
        ``from_pipe`` does too, minus its generic checks: 1 ms instead of ~30 ms a request.
        ``extra``: modules the base does not hold (ControlNets, an image encoder), by name."""
        cls = self.pipeline_class(task)
        accepted = _init_parameters(cls)
        kwargs = {name: module for name, module in base.components.items() if name in accepted}
        kwargs.update({
            name: value for name, value in base.config.items()
            if name in accepted and name not in kwargs and not name.startswith("_")
        })
        kwargs.update(extra or {})
        kwargs["scheduler"] = scheduler
        pipe = cls(**kwargs)
        pipe.set_progress_bar_config(disable=True)
        return pipe

    def make_scheduler(self, base: DiffusionPipeline, name: str) -> SchedulerMixin:
        from studio.image import schedulers

        return schedulers.build(name, base.scheduler.config)

    def call_kwargs(self, cfg: float) -> dict[str, Any]:
        """Family-specific keyword arguments of the pipeline call, the CFG value included."""
        return {**self.call_extras, self.cfg_argument: cfg}

    def full_size_modules(self) -> dict[str, Any]:
        """Its published architecture at full size, by component (build it on the meta device)."""
        if not self.full_size:
            raise KeyError(f"{self.label} names no full-size build")
        return resolve(self.full_size)()

    def guidance_active(self, cfg: float) -> bool:
        """Whether this CFG value runs the negative branch, so the negative prompt acts."""
        return cfg > self.guidance_threshold


@lru_cache(maxsize=None)
def _init_parameters(cls: type) -> frozenset[str]:
    return frozenset(inspect.signature(cls.__init__).parameters) - {"self"}
