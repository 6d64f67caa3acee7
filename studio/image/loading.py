"""Loading an image checkpoint as one cache entry: its family's txt2img pipeline.

A checkpoint is a diffusers folder (a tiny twin, or one in the checkpoints folder), a Hub id,
or a single ``.safetensors`` file in the original layout. The family is read from
``model_index.json`` or, for a single file, from its weight names (no weights are read).

The UNet / transformer, VAE and text encoders of one checkpoint are one entry: a step needs
all of them, and a single-file checkpoint holds them all in one file. Task pipelines
(img2img, inpaint) are built over the entry's modules (``ImageFamily.task_pipeline``), so they
cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from studio.errors import BadInput, ModelUnavailable
from studio.image import families
from studio.image.families.base import ImageFamily
from studio.models.loaders import LoadRequest

if TYPE_CHECKING:
    import torch
    from diffusers import DiffusionPipeline

    from studio.image.memory import Measure
    from studio.models.adapter_gate import AdapterGate

SINGLE_FILE_SUFFIXES = (".safetensors",)


@dataclass(eq=False)
class ImageModel:
    """A loaded checkpoint: its pipeline (the cache moves it) and its family."""

    pipeline: DiffusionPipeline
    family: ImageFamily
    name: str = ""
    # Serialises changes of the LoRA set on these shared modules (see studio.image.loras).
    adapter_gate: AdapterGate | None = None
    # Each torch component's measure (studio.image.memory.Measure), taken as it is loaded: later
    # walks of a shared pipeline would race with requests adding IP-Adapter layers to it.
    measures: dict[str, Measure] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        from studio.models.adapter_gate import AdapterGate

        if self.adapter_gate is None:
            self.adapter_gate = AdapterGate()
        if not self.measures:
            self.measure()

    def measure(self) -> None:
        """Measure the components again (after their weights changed in place, under an
        exclusive pin)."""
        from studio.image import memory

        self.measures = {name: memory.measure(m) for name, m in memory.pipeline_modules(self.pipeline).items()}

    def component_sizes(self) -> dict[str, int]:
        """Bytes of each torch component (unet, vae, text encoders...), for the Models tab."""
        return {name: m.bytes for name, m in self.measures.items()}


def device_dtype(family: ImageFamily, dtype: torch.dtype) -> torch.dtype:
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    return family.torch_dtype(dtype, device)


def family_of_folder(folder: Path) -> ImageFamily:
    index = Path(folder) / "model_index.json"
    if not index.is_file():
        raise BadInput(f"{Path(folder).name} is not a diffusers pipeline folder (no model_index.json).")
    return families.from_model_index(index)


def family_of_hub_id(request: LoadRequest) -> ImageFamily:
    from huggingface_hub import hf_hub_download

    index = hf_hub_download(
        request.location, "model_index.json", revision=request.revision,
        local_files_only=request.local_files_only,  # offline: the cache answers at once, or not at all
    )
    return families.from_model_index(Path(index))


def family_of_single_file(path: Path) -> ImageFamily:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            keys = list(handle.keys())
    except Exception as exc:  # safetensors raises its own error types for a damaged header
        raise BadInput(
            f"{path.name} cannot be read as a .safetensors checkpoint ({str(exc).splitlines()[0][:120]}). "
            "The file may be incomplete or damaged: download it again."
        ) from None
    return families.from_single_file_keys(keys, path.name)


def load_image_pipeline(request: LoadRequest) -> ImageModel:
    from diffusers.utils import logging as diffusers_logging

    # diffusers warns on every cache move and CLIP cut; the studio reports what matters itself.
    diffusers_logging.set_verbosity_error()
    location = Path(request.location)
    if location.is_file():
        if location.suffix.lower() not in SINGLE_FILE_SUFFIXES:
            raise BadInput(f"{location.name}: only .safetensors checkpoints are loaded (a .ckpt can run code).")
        family = family_of_single_file(location)
        config = family.single_file_config or None  # its component configs: the Hub, or the HF cache
        try:
            pipe = family.load_single_file(location, device_dtype(family, request.dtype), config)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise ModelUnavailable(
                f"{location.name} looks like a {family.label} checkpoint but could not be loaded "
                f"({str(exc).splitlines()[0][:160]}). Its component configs come from {config}: "
                "they must be downloaded once (or be in the Hugging Face cache)."
            ) from exc
        return ImageModel(pipe, family, location.stem)
    if location.is_dir():
        family = family_of_folder(location)
    else:
        family = family_of_hub_id(request)
    pipe = family.load(request.location, device_dtype(family, request.dtype), request.hub_kwargs())
    return ImageModel(pipe, family, location.name)

