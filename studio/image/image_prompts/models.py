"""The image-prompt models as shared cache entries, and their loaders.

ControlNets and the CLIP image encoder are ordinary ``from_pretrained`` models. An
IP-Adapter is one weight file; its entry is the file's tensors (``IPAdapterWeights``, a
module so the cache can size and move it), handed to diffusers' ``load_ip_adapter`` as a
state dict whenever the adapter set of a checkpoint's UNet changes. All of them are
entries of the one ModelCache, shared by every user and request, apart from the
checkpoint's own entry: adding or removing a slot never reloads the base pipeline.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.errors import BadInput, ModelUnavailable

if TYPE_CHECKING:
    import torch
    from diffusers import ControlNetModel
    from diffusers.models.controlnets.controlnet_z_image import ZImageControlNetModel
    from transformers import CLIPVisionModelWithProjection

    from studio.models.loaders import LoadRequest

IP_ADAPTER_SUFFIX = ".safetensors"


def load_controlnet(request: LoadRequest) -> ControlNetModel:
    from diffusers import ControlNetModel

    return ControlNetModel.from_pretrained(request.location, dtype=request.dtype, **request.hub_kwargs())


def load_zimage_controlnet(request: LoadRequest) -> ZImageControlNetModel:
    """Z-Image's union ControlNet: one original-layout .safetensors file (``from_single_file``).
    A twin's folder holds its config too; the Hub file's config comes from diffusers' default."""
    from diffusers.models.controlnets.controlnet_z_image import ZImageControlNetModel

    from studio.image.families.zimage import ZIMAGE
    from studio.image.loading import device_dtype

    folder = Path(request.location)
    path = _single_file(request)
    config = str(folder) if folder.is_dir() and (folder / "config.json").is_file() else None
    # In Z-Image's own dtype, as its transformer is loaded (bf16, or fp32 where bf16 is missing;
    # never fp16): the control residuals are added to the transformer's hidden states.
    return ZImageControlNetModel.from_single_file(str(path), config=config, dtype=device_dtype(ZIMAGE, request.dtype),
                                                  local_files_only=request.local_files_only or None)


def load_image_encoder(request: LoadRequest) -> CLIPVisionModelWithProjection:
    from transformers import CLIPVisionModelWithProjection

    return CLIPVisionModelWithProjection.from_pretrained(request.location, dtype=request.dtype, **request.hub_kwargs())


def _single_file(request: LoadRequest) -> Path:
    """A twin's folder (its one .safetensors), or "owner/repo/path/file.safetensors" on the Hub."""
    location = Path(request.location)
    if location.is_dir():
        files = sorted(location.glob(f"*{IP_ADAPTER_SUFFIX}"))
        if not files:
            raise ModelUnavailable(f"{location} holds no .safetensors file.")
        return files[0]
    if location.is_file():
        return location
    parts = request.location.split("/")
    if len(parts) < 3 or not request.location.endswith(IP_ADAPTER_SUFFIX):
        raise BadInput(f"{request.location!r} is not a model file: give owner/repo/path/file.safetensors.")
    from huggingface_hub import hf_hub_download

    return Path(hf_hub_download("/".join(parts[:2]), "/".join(parts[2:]), revision=request.revision,
                                local_files_only=request.local_files_only))


@lru_cache(maxsize=None)
def _weights_class():
    """Defined on first use (torch is imported only then), once."""
    import torch

    class IPAdapterWeights(torch.nn.Module):
        """An IP-Adapter file's tensors as buffers (moved and sized by the cache), given back in
        the ``{"image_proj": {...}, "ip_adapter": {...}}`` form ``load_ip_adapter`` takes."""

        def __init__(self, sections: dict[str, dict[str, Any]]):
            super().__init__()
            self.names: list[tuple[str, str]] = []
            for section, tensors in sections.items():
                for key, tensor in tensors.items():
                    self.register_buffer(f"t{len(self.names)}", tensor)
                    self.names.append((section, key))

        def state_dicts(self) -> dict[str, dict[str, Any]]:
            sections: dict[str, dict[str, Any]] = {"image_proj": {}, "ip_adapter": {}}
            for index, (section, key) in enumerate(self.names):
                sections[section][key] = getattr(self, f"t{index}")
            return sections

        @property
        def plus(self) -> bool:
            """A resampler adapter (reads the encoder's hidden states, not its image embedding)."""
            return "latents" in self.state_dicts()["image_proj"]

    return IPAdapterWeights


def load_ip_adapter(request: LoadRequest) -> torch.nn.Module:
    from safetensors import safe_open

    path = _single_file(request)
    sections: dict[str, dict[str, Any]] = {"image_proj": {}, "ip_adapter": {}}
    try:
        with safe_open(str(path), framework="pt") as handle:
            for key in handle.keys():
                section, _, name = key.partition(".")
                if section in sections:
                    sections[section][name] = handle.get_tensor(key).to(request.dtype)
    except Exception as exc:  # safetensors raises its own error types for a damaged header
        raise ModelUnavailable(f"{path.name} cannot be read as an IP-Adapter ({str(exc).splitlines()[0][:120]}).") from None
    if not sections["image_proj"] or not sections["ip_adapter"]:
        raise ModelUnavailable(f"{path.name} is not an IP-Adapter file (no image_proj / ip_adapter weights).")
    return _weights_class()(sections)
