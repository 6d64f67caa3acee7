"""Super-resolution models read by spandrel, as entries of the shared model cache.

A model is a ``.pth`` / ``.safetensors`` / ``.pt`` file: a catalog default on the Hub
("owner/repo/file.pth"), a file in the upscalers folder (``--upscalers-dir``), or, in the
tiny profile, a random-weight twin written by ``studio.image.edit.tiny_twins``. All three go
through spandrel's ``ModelLoader``, which recognises the architecture from the weights
(ESRGAN / Real-ESRGAN, SwinIR, HAT, DAT, SPAN, ...). A file spandrel cannot read is refused
with the list of what it reads.

fp16 where the architecture allows it and the model runs on a GPU (spandrel says which do);
fp32 on a CPU, where half-precision convolutions are slow or missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from studio.errors import BadInput, ModelUnavailable
from studio.models import model_files
from studio.models import catalog
from studio.models.specs import ModelSpec

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    import torch

    from studio.context import StudioContext
    from studio.models.loaders import LoadRequest
    from studio.settings import Settings

NAME = "upscaler"  # the catalog entry
KIND = "upscaler"  # the loader kind (studio.models.loaders LOADERS)
SUFFIXES = (".safetensors", ".pth", ".pt", ".ckpt")
HUB_FILE = re.compile(r"^(?!.*\.\.)[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}/[\w./ -]{1,200}$")
CPU_TILE = 512  # input pixels a side per tile on a CPU (a few hundred MB of activations)
PROBE_SIDE = 64
GPU_MEMORY_SHARE = 0.5  # of the free GPU memory a tile may use


@dataclass
class Upscaler:
    """A loaded super-resolution model. ``module`` is the torch module the cache moves."""

    module: torch.nn.Module
    scale: int
    architecture: str
    name: str
    supports_half: bool
    supports_bfloat16: bool
    minimum: int = 1
    multiple_of: int = 1
    square: bool = False
    dtype: torch.dtype | None = None  # what it runs in: fp16 (or bf16) on a GPU where allowed, else fp32
    _bytes_per_pixel: dict = field(default_factory=dict, repr=False)

    def component_sizes(self) -> dict[str, int]:
        return {self.architecture: sum(t.numel() * t.element_size() for t in self.module.state_dict().values())}

    @property
    def device(self) -> torch.device:
        return next(self.module.parameters()).device

    def __call__(self, window: np.ndarray) -> np.ndarray:
        """H×W×3 uint8 (or 0..1 float) pixels -> (H·scale)×(W·scale)×3 float32 in 0..1."""
        import torch

        height, width = window.shape[:2]
        parameter = next(self.module.parameters())
        with torch.inference_mode():
            x = torch.tensor(window).permute(2, 0, 1)[None]  # a copy: the window is a read-only view
            x = x.to(parameter.device, parameter.dtype)
            x = x / 255.0 if window.dtype == np.uint8 else x
            x = self._padded(x)
            y = self.module(x)[0, :, : height * self.scale, : width * self.scale]
            return y.float().clamp_(0, 1).permute(1, 2, 0).cpu().numpy()

    def _padded(self, x: torch.Tensor) -> torch.Tensor:
        """Reflect-pad to the architecture's size requirements (cropped off afterwards)."""
        import torch.nn.functional as F

        height, width = x.shape[-2:]
        want_h, want_w = max(height, self.minimum), max(width, self.minimum)
        if self.square:
            want_h = want_w = max(want_h, want_w)
        m = max(1, self.multiple_of)
        want_h, want_w = -(-want_h // m) * m, -(-want_w // m) * m
        pad_bottom, pad_right = want_h - height, want_w - width
        if pad_bottom or pad_right:
            mode = "reflect" if pad_bottom < height and pad_right < width else "replicate"
            x = F.pad(x, (0, pad_right, 0, pad_bottom), mode=mode)
        return x

    def auto_tile(self) -> int:
        """Input pixels a side per tile: on a GPU, what half of the free memory holds (measured
        once per device with a small probe tile); on a CPU, ``CPU_TILE``."""
        import torch

        device = self.device
        if device.type != "cuda":
            return CPU_TILE
        per_pixel = self._bytes_per_pixel.get(str(device))
        if per_pixel is None:
            torch.cuda.synchronize(device)
            base = torch.cuda.memory_allocated(device)
            torch.cuda.reset_peak_memory_stats(device)
            self(np.zeros((PROBE_SIDE, PROBE_SIDE, 3), dtype=np.uint8))
            per_pixel = max(1.0, (torch.cuda.max_memory_allocated(device) - base) / PROBE_SIDE**2)
            self._bytes_per_pixel[str(device)] = per_pixel
        free, _total = torch.cuda.mem_get_info(device)
        side = int((free * GPU_MEMORY_SHARE / per_pixel) ** 0.5)
        return max(128, min(side, 4096)) // 8 * 8

    def untiled_bytes(self, width: int, height: int) -> float | None:
        """The GPU memory one untiled call would take, from the probe (None before it ran)."""
        per_pixel = self._bytes_per_pixel.get(str(self.device))
        return None if per_pixel is None else per_pixel * width * height


def supported_architectures() -> list[str]:
    from spandrel import MAIN_REGISTRY

    return [a.architecture.name for a in MAIN_REGISTRY.architectures()]


def _unreadable(path: Path, reason: str) -> BadInput:
    names = supported_architectures()
    return BadInput(
        f"{path.name} is not an upscaler spandrel can read ({reason}). It reads .pth, .pt, .ckpt and "
        f".safetensors files of these architectures: {', '.join(names)}."
    )


def read_file(path: Path) -> Upscaler:
    """One model file -> Upscaler on the CPU in fp32, through spandrel's ModelLoader."""
    from spandrel import ImageModelDescriptor, ModelLoader, UnsupportedModelError

    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise _unreadable(path, f"the file type {path.suffix or '(none)'} is not a model file")
    try:
        descriptor = ModelLoader().load_from_file(path)
    except UnsupportedModelError:
        raise _unreadable(path, "its weights match no architecture spandrel knows") from None
    except Exception as exc:  # a damaged file, a pickle spandrel refuses, a wrong format
        raise _unreadable(path, str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__) from None
    if not isinstance(descriptor, ImageModelDescriptor) or descriptor.purpose not in ("SR", "Restoration"):
        raise BadInput(f"{path.name} is a {descriptor.architecture.name} model for {descriptor.purpose}, "
                       "not an upscaler.")
    if int(descriptor.scale) < 2:  # a restoration model: the upscale would never reach its size
        raise BadInput(f"{path.name} is a ×{int(descriptor.scale)} {descriptor.architecture.name} model "
                       f"({descriptor.purpose}: it cleans a picture up without enlarging it), not an upscaler: "
                       "pick a model of ×2 or more.")
    if descriptor.input_channels != 3 or descriptor.output_channels != 3:
        raise BadInput(f"{path.name} works on {descriptor.input_channels}-channel images; upscaling needs RGB models.")
    requirements = descriptor.size_requirements
    module = descriptor.model.float().eval()
    for parameter in module.parameters():
        parameter.requires_grad_(False)
    return Upscaler(
        module=module, scale=int(descriptor.scale), architecture=descriptor.architecture.name, name=path.name,
        supports_half=bool(descriptor.supports_half), supports_bfloat16=bool(descriptor.supports_bfloat16),
        minimum=int(requirements.minimum or 1), multiple_of=int(requirements.multiple_of or 1),
        square=bool(requirements.square),
    )


def _model_file(location: str, local_files_only: bool, revision: str | None) -> Path:
    path = Path(location)
    if path.is_file():
        return path
    if path.is_dir():  # a tiny twin's folder: its one model file
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES)
        if len(files) != 1:
            raise ModelUnavailable(f"{path} should hold exactly one upscaler file (found {len(files)}).")
        return files[0]
    parts = location.split("/")
    if len(parts) < 3:
        raise ModelUnavailable(f"{location!r} is not an upscaler: give owner/repo/file.pth on the Hub, or a file "
                               "in the upscalers folder.")
    from huggingface_hub import hf_hub_download

    return Path(hf_hub_download("/".join(parts[:2]), "/".join(parts[2:]), revision=revision,
                                local_files_only=local_files_only))


def load_upscaler(request: LoadRequest) -> Upscaler:
    """The loader of kind "upscaler" (studio.models.loaders): a LoadRequest -> Upscaler on the
    CPU; its GPU dtype is chosen here (fp16 where the architecture allows it)."""
    import torch

    model = read_file(_model_file(request.location, request.local_files_only, request.revision))
    dtype = torch.float32
    if request.dtype in (torch.float16, torch.bfloat16) and torch.cuda.is_available():
        # fp16 first: these convolutional models are trained and usually shipped for it.
        if model.supports_half:
            dtype = torch.float16
        elif model.supports_bfloat16 and torch.cuda.is_bf16_supported():
            dtype = torch.bfloat16
    model.module.to(dtype)
    model.dtype = dtype
    return model


# --- which model a request means --------------------------------------------------------------


def local_files(settings: Settings) -> list[str]:
    """Model files the user put in the upscalers folder (listed fresh: no restart needed)."""
    return model_files.list_files(settings.upscalers_dir, SUFFIXES)


def choices(settings: Settings) -> list[str]:
    return catalog.choices(settings, NAME) + local_files(settings)


def spec(studio: StudioContext, model_id: str = "") -> ModelSpec:
    """The catalog default (its twin in the tiny profile), a catalog id, a file in the
    upscalers folder, or a Hub file "owner/repo/file.pth"."""
    settings = studio.settings
    model_id = str(model_id or "").strip()
    if not model_id or model_id in catalog.choices(settings, NAME):
        return studio.spec(NAME, model_id or None)
    if model_files.exists(settings.upscalers_dir, model_id):
        path = model_files.resolve(settings.upscalers_dir, model_id, "upscaler")
        if path.suffix.lower() not in SUFFIXES:
            raise _unreadable(path, f"the file type {path.suffix or '(none)'} is not a model file")
        return ModelSpec(kind=KIND, source=str(path.resolve()), dtype=settings.dtype, label=NAME)
    if HUB_FILE.match(model_id) and model_id.lower().endswith(SUFFIXES):
        if settings.is_tiny:
            raise ModelUnavailable(
                f"The tiny profile has no offline twin of {model_id!r}. Pick one of: "
                f"{', '.join(catalog.entry(NAME).choices)}, a file in {settings.upscalers_dir}, or run with "
                "--profile standard."
            )
        return ModelSpec(kind=KIND, source=model_id, dtype=settings.dtype, label=NAME)
    raise BadInput(
        f"No upscaler called {model_id[:80]!r}: pick one from the list, put the file in {settings.upscalers_dir}, "
        "or give a Hub file as owner/repo/file.pth."
    )
