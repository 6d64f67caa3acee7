"""Tiny twins of the image-prompt models, sized for the tiny SDXL and SD 1.5 twins' UNets and
built with the real classes and file layouts, so every image-prompt path runs offline:

- a ControlNet made by ``ControlNetModel.from_unet`` from the tiny UNet (its zero-initialised
  output convolutions given random weights, so it visibly steers, as a trained one does),
  saved with ``save_pretrained``;
- a CLIP vision encoder with projection (``CLIPVisionModelWithProjection``), the ViT-H
  encoder's class;
- IP-Adapter weight files in the original single-file layout diffusers' ``load_ip_adapter``
  reads: ``image_proj.*`` (a linear projection to 4 tokens for the plain adapter, the
  perceiver resampler of the "plus" adapters for the face one) and ``ip_adapter.<n>.to_k_ip``
  / ``to_v_ip`` for every cross-attention layer of the UNet, numbered as the originals are.
"""

from __future__ import annotations

from pathlib import Path

IP_ADAPTER_FILE = "ip-adapter.safetensors"
ENCODER_HIDDEN = 48  # the vision transformer's width (ViT-H: 1280)
ENCODER_PROJECTION = 32  # its image embedding (ViT-H: 1024)
ENCODER_IMAGE_SIZE = 32  # (ViT-H: 224)
PLUS_QUERIES = 16  # the resampler's output tokens (the plus adapters: 16)
PLUS_HIDDEN = 32
PLUS_DEPTH = 4  # diffusers builds the resampler with 4 layers
PLUS_HEAD_DIM = 64  # diffusers reads heads as to_q rows / 64
FF_MULT = 4


def _tiny_unet(folder: Path, base: str):
    from diffusers import UNet2DConditionModel

    from studio.models import tiny

    return UNet2DConditionModel.from_pretrained(tiny.ensure_built(base, folder.parent), subfolder="unet")


def _controlnet(folder: Path, seed: int, base: str = "sdxl") -> None:
    import torch
    from diffusers import ControlNetModel

    unet = _tiny_unet(folder, base)
    torch.manual_seed(seed)
    net = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(8, 16, 16, 32))
    with torch.no_grad():
        zeroed = [*net.controlnet_down_blocks, net.controlnet_mid_block, net.controlnet_cond_embedding.conv_out]
        for module in zeroed:
            module.weight.normal_(0.0, 0.5)
            module.bias.normal_(0.0, 0.1)
    net.save_pretrained(folder)


def build_controlnet_canny(folder: Path) -> None:
    """Stands in for diffusers/controlnet-canny-sdxl-1.0."""
    _controlnet(folder, seed=21)


def build_controlnet_cpds(folder: Path) -> None:
    """Stands in for diffusers/controlnet-depth-sdxl-1.0 (what CPDS maps are fed to)."""
    _controlnet(folder, seed=22)


def build_sd15_controlnet_canny(folder: Path) -> None:
    """Stands in for lllyasviel/control_v11p_sd15_canny."""
    _controlnet(folder, seed=31, base="sd15")


def build_sd15_controlnet_cpds(folder: Path) -> None:
    """Stands in for lllyasviel/control_v11f1p_sd15_depth."""
    _controlnet(folder, seed=32, base="sd15")


ZIMAGE_CONTROLNET_FILE = "z-image-controlnet-union.safetensors"


def build_zimage_controlnet(folder: Path) -> None:
    """Stands in for alibaba-pai's Z-Image-Turbo-Fun-Controlnet-Union: a ``ZImageControlNetModel``
    sized for the tiny Z-Image transformer, written as the original single file (read by
    ``from_single_file``) with its config beside it (the real one's config comes from the Hub)."""
    import torch
    from diffusers.models.controlnets.controlnet_z_image import ZImageControlNetModel
    from diffusers.models.transformers.transformer_z_image import ZImageTransformer2DModel
    from safetensors.torch import save_file

    from studio.models import tiny

    config = ZImageTransformer2DModel.load_config(tiny.ensure_built("zimage", folder.parent), subfolder="transformer")
    torch.manual_seed(41)
    net = ZImageControlNetModel(
        control_layers_places=list(range(config["n_layers"])), control_in_dim=config["in_channels"], dim=config["dim"],
        n_refiner_layers=config["n_refiner_layers"], n_heads=config["n_heads"], n_kv_heads=config["n_kv_heads"],
        all_patch_size=tuple(config["all_patch_size"]), all_f_patch_size=tuple(config["all_f_patch_size"]),
    )
    with torch.no_grad():  # its zero-initialised projections in and out get random weights, so it steers
        for parameter in net.parameters():
            if not parameter.any():
                parameter.normal_(0.0, 0.2)
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(folder / ZIMAGE_CONTROLNET_FILE))
    net.save_config(folder)


def build_image_encoder(folder: Path) -> None:
    """Stands in for h94/IP-Adapter's models/image_encoder (OpenCLIP ViT-H/14)."""
    import torch
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(23)
    config = CLIPVisionConfig(
        hidden_size=ENCODER_HIDDEN, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        image_size=ENCODER_IMAGE_SIZE, patch_size=8, projection_dim=ENCODER_PROJECTION, hidden_act="gelu",
    )
    CLIPVisionModelWithProjection(config).save_pretrained(folder)


def _cross_attention_layers(unet) -> list[tuple[int, int]]:
    """(original key number, query width) of each cross-attention layer, in the UNet's own
    processor order: the originals number the attention layers of each transformer block in
    pairs (self-attention even, cross-attention odd), so the cross ones are 1, 3, 5, ..."""
    layers = []
    for name in unet.attn_processors:
        if name.endswith("attn2.processor"):
            attention = unet.get_submodule(name[: -len(".processor")])
            layers.append((1 + 2 * len(layers), attention.to_q.in_features))
    return layers


def _ip_layers(unet, generator) -> dict:
    import torch

    cross = unet.config.cross_attention_dim
    tensors = {}
    for number, width in _cross_attention_layers(unet):
        for which in ("to_k_ip", "to_v_ip"):
            tensors[f"ip_adapter.{number}.{which}.weight"] = torch.randn(width, cross, generator=generator) * 0.3
    return tensors


def _plain_projection(cross: int, generator) -> dict:
    import torch

    tokens = 4
    return {
        "image_proj.proj.weight": torch.randn(cross * tokens, ENCODER_PROJECTION, generator=generator) * 0.3,
        "image_proj.proj.bias": torch.zeros(cross * tokens),
        "image_proj.norm.weight": torch.ones(cross),
        "image_proj.norm.bias": torch.zeros(cross),
    }


def _resampler(cross: int, generator) -> dict:
    """The perceiver resampler of the plus adapters, in the original (non-diffusers) names."""
    import torch

    def rand(*shape):
        return torch.randn(*shape, generator=generator) * 0.2

    hidden, inner = PLUS_HIDDEN, PLUS_HEAD_DIM
    state = {
        "latents": rand(1, PLUS_QUERIES, hidden),
        "proj_in.weight": rand(hidden, ENCODER_HIDDEN), "proj_in.bias": torch.zeros(hidden),
        "proj_out.weight": rand(cross, hidden), "proj_out.bias": torch.zeros(cross),
        "norm_out.weight": torch.ones(cross), "norm_out.bias": torch.zeros(cross),
    }
    for i in range(PLUS_DEPTH):
        for norm in ("norm1", "norm2"):
            state[f"layers.{i}.0.{norm}.weight"] = torch.ones(hidden)
            state[f"layers.{i}.0.{norm}.bias"] = torch.zeros(hidden)
        state[f"layers.{i}.0.to_q.weight"] = rand(inner, hidden)
        state[f"layers.{i}.0.to_kv.weight"] = rand(2 * inner, hidden)
        state[f"layers.{i}.0.to_out.weight"] = rand(hidden, inner)
        state[f"layers.{i}.1.0.weight"] = torch.ones(hidden)
        state[f"layers.{i}.1.0.bias"] = torch.zeros(hidden)
        state[f"layers.{i}.1.1.weight"] = rand(hidden * FF_MULT, hidden)
        state[f"layers.{i}.1.3.weight"] = rand(hidden, hidden * FF_MULT)
    return {f"image_proj.{key}": value for key, value in state.items()}


def _ip_adapter(folder: Path, seed: int, plus: bool, base: str = "sdxl") -> None:
    import torch
    from safetensors.torch import save_file

    unet = _tiny_unet(folder, base)
    generator = torch.Generator().manual_seed(seed)
    cross = unet.config.cross_attention_dim
    tensors = (_resampler(cross, generator) if plus else _plain_projection(cross, generator))
    tensors.update(_ip_layers(unet, generator))
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(folder / IP_ADAPTER_FILE))


def build_ip_adapter(folder: Path) -> None:
    """Stands in for h94/IP-Adapter sdxl_models/ip-adapter_sdxl_vit-h.safetensors."""
    _ip_adapter(folder, seed=24, plus=False)


def build_ip_adapter_face(folder: Path) -> None:
    """Stands in for h94/IP-Adapter sdxl_models/ip-adapter-plus-face_sdxl_vit-h.safetensors."""
    _ip_adapter(folder, seed=25, plus=True)


def build_sd15_ip_adapter(folder: Path) -> None:
    """Stands in for h94/IP-Adapter models/ip-adapter_sd15.safetensors."""
    _ip_adapter(folder, seed=33, plus=False, base="sd15")


def build_sd15_ip_adapter_face(folder: Path) -> None:
    """Stands in for h94/IP-Adapter models/ip-adapter-plus-face_sd15.safetensors."""
    _ip_adapter(folder, seed=34, plus=True, base="sd15")
