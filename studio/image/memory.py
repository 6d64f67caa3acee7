"""Memory plans for image pipelines: what a request needs on the device, and running it so.

``footprint`` describes a request (its checkpoint's parts, its image-prompt models, the size
it draws) for ``studio.models.plans.choose``; ``running`` applies the chosen plan to the
request's pipeline with diffusers' own hooks (``enable_model_cpu_offload``, group offloading,
VAE tiling) and takes them off again afterwards, so the cached modules are left as they were.

The working memory (activations) is estimated from each module's config and the image size:
a number of live feature maps at the size of the largest one. The counts below are estimates
for full-size SDXL / Z-Image at 1024², bf16; ``benchmarks/gpu.py`` prints them beside the
peak that CUDA measures.
"""

from __future__ import annotations

import threading
import weakref
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

from studio.models import plans
from studio.models.cache import size_of

if TYPE_CHECKING:
    import torch
    from diffusers import DiffusionPipeline

    from studio.image.families.base import ImageFamily

TEXT_ENCODERS = ("text_encoder", "text_encoder_2")
DENOISERS = ("unet", "transformer")
# Live tensors at the peak, in units of the largest activation of each module.
UNET_LIVE_MAPS = 38  # batch × latent pixels × first-level channels: ~0.8 GB for SDXL at 1024², CFG on
TRANSFORMER_LIVE_STATES = 16  # batch × (image + text tokens) × width: ~0.6 GB for Z-Image at 1024²
VAE_LIVE_MAPS = 5  # image pixels × first-level channels: ~1.3 GB for a 1024² decode in bf16
TEXT_LIVE_STATES = 32  # sequence × width: tens of MB, CLIP or Qwen3
CONTROLNET_SHARE = 0.5  # a ControlNet runs the UNet's down half: about half its working memory
VAE_TILE = 512  # pixels per side of a decode tile when a plan tiles (overlap 1/4, diffusers' default)
PROMPT_TOKENS = {"unet": 77, "transformer": 512}


def largest_layer(module: torch.nn.Module) -> int:
    """Bytes of the biggest leaf module: what group offloading holds on the device at once."""
    return max((sum(t.numel() * t.element_size()
                    for t in list(leaf.parameters(recurse=False)) + list(leaf.buffers(recurse=False)))
                for leaf in module.modules()), default=0)


@dataclass(frozen=True)
class Measure:
    """What a plan needs to know of one module's weights."""

    bytes: int
    largest_layer: int
    float_bytes: int  # bytes per element of its compute dtype (2 for fp16/bf16, 4 for fp32)
    fp16: bool


def measure(module: torch.nn.Module) -> Measure:
    """Walks every parameter: do it where nothing else changes the module (a checkpoint is
    measured once, as it is loaded; see ``ImageModel.measures``), because a concurrent run
    adding IP-Adapter layers changes the module tree under the walk."""
    import torch

    tensors = list(module.parameters())
    floats = [t for t in tensors if t.is_floating_point() and t.element_size() >= 2]
    return Measure(size_of(module), largest_layer(module), floats[0].element_size() if floats else 4,
                   any(t.dtype == torch.float16 for t in tensors))


def _config(module: torch.nn.Module | None) -> Any:
    return getattr(module, "config", None)


def _get(config: Any, name: str, default: Any = None) -> Any:
    if config is None:
        return default
    if isinstance(config, dict):
        return config.get(name, default)
    return getattr(config, name, default)


def _vae_scale(vae: torch.nn.Module | None) -> int:
    channels = _get(_config(vae), "block_out_channels", (1, 1, 1, 1))
    return 2 ** (len(channels) - 1)


def denoise_working(denoiser_name: str, denoiser: torch.nn.Module, vae: torch.nn.Module | None, width: int,
                    height: int, batch: int, act_bytes: int) -> int:
    config = _config(denoiser)
    scale = _vae_scale(vae)
    latent = (width // scale) * (height // scale)
    if denoiser_name == "unet":
        channels = _get(config, "block_out_channels", (320,))[0]
        return UNET_LIVE_MAPS * batch * latent * channels * act_bytes
    patch = (_get(config, "all_patch_size", (2,)) or (2,))[0]
    dim = _get(config, "dim", None) or _get(config, "inner_dim", None) or 3072
    tokens = latent // (patch * patch) + PROMPT_TOKENS["transformer"]
    return TRANSFORMER_LIVE_STATES * batch * tokens * dim * act_bytes


def vae_working(vae: torch.nn.Module, width: int, height: int, act_bytes: int) -> int:
    channels = _get(_config(vae), "block_out_channels", (128,))[0]
    return VAE_LIVE_MAPS * width * height * channels * act_bytes


def text_working(encoder: torch.nn.Module, tokens: int, act_bytes: int) -> int:
    config = _config(encoder)
    hidden = _get(config, "hidden_size", None) or _get(_get(config, "text_config", None), "hidden_size", 1024)
    return TEXT_LIVE_STATES * tokens * hidden * act_bytes


def footprint(family: ImageFamily, modules: dict[str, torch.nn.Module], width: int, height: int, guidance: bool,
              extra_bytes: dict[str, int] | None = None, fp8_allowed: bool = False,
              measures: dict[str, Measure] | None = None) -> plans.Footprint:
    """What a run of ``modules`` (a task pipeline's torch components by name: text encoders,
    unet / transformer, controlnet, image_encoder, vae) at ``width``×``height`` needs.
    ``extra_bytes`` adds weights that join a part for the run (an IP-Adapter's layers join the
    UNet). ``measures`` are ones taken before (a shared checkpoint's); the other modules are
    measured here. The modules may be a meta-device build (sized as loaded in their dtype)."""
    extra_bytes = extra_bytes or {}
    known = measures or {}
    sized = {name: known.get(name) or measure(m) for name, m in modules.items()}
    parts = {name: m.bytes + extra_bytes.get(name, 0) for name, m in sized.items()}
    layers = {name: m.largest_layer for name, m in sized.items()}
    denoiser_name = next(name for name in DENOISERS if name in modules)
    act = sized[denoiser_name].float_bytes
    vae = modules.get("vae")
    batch = 2 if guidance else 1
    denoise = denoise_working(denoiser_name, modules[denoiser_name], vae, width, height, batch, act)
    controls = ("controlnet",) if "controlnet" in modules else ()
    if controls:
        denoise = int(denoise * (1 + CONTROLNET_SHARE))
    vae_bytes = 4 if vae is not None and _decodes_in_fp32(vae, sized["vae"], act) else act
    stages = [
        plans.Stage(name, (name,), text_working(modules[name], PROMPT_TOKENS[denoiser_name], act))
        for name in TEXT_ENCODERS if name in modules
    ]
    if "image_encoder" in modules:
        stages.append(plans.Stage("image encoder", ("image_encoder",), text_working(modules["image_encoder"], 257, act)))
    stages.append(plans.Stage("denoise", (denoiser_name,) + controls, denoise))
    if vae is not None:
        tiled = None
        if width > VAE_TILE or height > VAE_TILE:
            tiled = vae_working(vae, min(width, VAE_TILE), min(height, VAE_TILE), vae_bytes)
        # ControlNets are hooked outside diffusers' offload chain: they stay until the run ends.
        stages.append(plans.Stage("decode", ("vae",) + controls, vae_working(vae, width, height, vae_bytes), tiled))
    return plans.Footprint(parts=parts, stages=tuple(stages), largest_layer=layers,
                           fp8_parts=(denoiser_name,) if fp8_allowed else ())


def _decodes_in_fp32(vae: torch.nn.Module, sized: Measure, act_bytes: int) -> bool:
    """SDXL's VAE is upcast to fp32 for decoding when loaded in fp16 (force_upcast)."""
    return act_bytes == 2 and bool(_get(_config(vae), "force_upcast", False)) and sized.fp16


def pipeline_modules(pipe: DiffusionPipeline) -> dict[str, torch.nn.Module]:
    """A pipeline's torch components by name (the parts a plan moves)."""
    import torch

    return {name: m for name, m in pipe.components.items() if isinstance(m, torch.nn.Module)}


# -- running a request under its plan -----------------------------------------------------------


@contextmanager
def running(pipe: DiffusionPipeline, plan: plans.MemoryPlan, device: str) -> Iterator[None]:
    """Run the block with ``pipe`` placed as ``plan`` says; afterwards every hook is removed and
    offloaded modules are back in CPU RAM, where the cache parked them."""
    with _vae_tiles(pipe, plan.vae_tiling):
        if not plan.offloaded:
            yield
            return
        if plan.name == plans.MODEL_OFFLOAD:
            pipe.enable_model_cpu_offload(device=device)
        else:
            group_offload(pipe, device)
        try:
            yield
        finally:
            undo_offload(pipe, plan.name)


def group_offload(pipe: DiffusionPipeline, device: str) -> None:
    """Leaf-level group offloading of every component (diffusers' ``enable_group_offload``): each
    layer comes onto the device as it runs, the next one prefetched on a CUDA stream where there is one."""
    import torch

    on_cuda = str(device).startswith("cuda")
    pipe.enable_group_offload(onload_device=torch.device(device), offload_device=torch.device("cpu"),
                              offload_type="leaf_level", use_stream=on_cuda, low_cpu_mem_usage=on_cuda)


def undo_offload(pipe: DiffusionPipeline, plan_name: str) -> None:
    """Take ``plan_name``'s hooks off ``pipe``'s modules and leave them in CPU RAM."""
    if plan_name == plans.MODEL_OFFLOAD:
        pipe.remove_all_hooks()
    else:
        from diffusers.hooks.group_offloading import _GROUP_OFFLOADING, _LAZY_PREFETCH_GROUP_OFFLOADING
        from diffusers.hooks.hooks import HookRegistry

        for module in pipeline_modules(pipe).values():
            registry = HookRegistry.check_if_exists_or_initialize(module)
            registry.remove_hook(_LAZY_PREFETCH_GROUP_OFFLOADING, recurse=True)
            registry.remove_hook(_GROUP_OFFLOADING, recurse=True)
    for module in pipeline_modules(pipe).values():
        module.to("cpu")  # a cancelled run can leave a part on the device


# Requests on one checkpoint share its VAE: tiling is switched on by the first that needs it and
# the VAE's own settings are given back by the last (a later request's decode of a large image
# meanwhile is tiled too, which changes it by rounding only).
_TILING_LOCK = threading.Lock()
_TILING_USERS: "weakref.WeakKeyDictionary[Any, tuple[int, dict[str, Any]]]" = weakref.WeakKeyDictionary()


@contextmanager
def _vae_tiles(pipe: DiffusionPipeline, tiled: bool) -> Iterator[None]:
    """Decode in VAE_TILE-pixel tiles for this run, then give the VAE its own settings back."""
    vae = getattr(pipe, "vae", None)
    if not tiled or vae is None or not hasattr(vae, "enable_tiling"):
        yield
        return
    with _TILING_LOCK:
        users, saved = _TILING_USERS.get(vae, (0, {}))
        if users == 0:
            saved = {name: getattr(vae, name, None)
                     for name in ("use_tiling", "tile_sample_min_size", "tile_latent_min_size")}
            vae.enable_tiling()
            vae.tile_sample_min_size = VAE_TILE
            vae.tile_latent_min_size = VAE_TILE // _vae_scale(vae)
        _TILING_USERS[vae] = (users + 1, saved)
    try:
        yield
    finally:
        with _TILING_LOCK:
            users, saved = _TILING_USERS.pop(vae)
            if users > 1:
                _TILING_USERS[vae] = (users - 1, saved)
            else:
                for name, value in saved.items():
                    if value is not None:
                        setattr(vae, name, value)


def use_fp8_storage(model: Any) -> bool:
    """Store the checkpoint's denoiser in fp8 (computed in its own dtype, layer by layer). Once
    per cached checkpoint; True when it changed something (the cache then re-measures it)."""
    import torch

    if getattr(model, "fp8_storage", False):
        return False
    pipe = model.pipeline
    for name in DENOISERS:
        denoiser = getattr(pipe, name, None)
        if denoiser is not None and hasattr(denoiser, "enable_layerwise_casting"):
            compute = next(p.dtype for p in denoiser.parameters() if p.is_floating_point())
            denoiser.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=compute)
    model.fp8_storage = True
    model.measure()
    return True
