"""The published architectures at full size, built from their configs with no weights read.

Built on the meta device (``with torch.device("meta")``) they cost nothing and give exact
parameter counts, which is what the memory planner needs; built on a GPU with random weights
they have the real models' FLOPs and memory, which is what the GPU benchmark needs. Neither
needs the Hub.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, TypeVar

if TYPE_CHECKING:
    import torch
    from diffusers import ControlNetModel, UNet2DConditionModel
    from diffusers.models.controlnets.controlnet_z_image import ZImageControlNetModel
    from transformers import CLIPVisionModelWithProjection

GB = 1024**3
T = TypeVar("T")


def sdxl() -> dict[str, torch.nn.Module]:
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    unet = UNet2DConditionModel(
        sample_size=128, in_channels=4, out_channels=4, block_out_channels=(320, 640, 1280), layers_per_block=2,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(5, 10, 20), transformer_layers_per_block=(1, 2, 10), use_linear_projection=True,
        cross_attention_dim=2048, addition_embed_type="text_time", addition_time_embed_dim=256,
        projection_class_embeddings_input_dim=2816,
    )
    clip_l = CLIPTextModel(CLIPTextConfig(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                                          num_attention_heads=12, projection_dim=768))
    clip_g = CLIPTextModelWithProjection(CLIPTextConfig(hidden_size=1280, intermediate_size=5120, num_hidden_layers=32,
                                                        num_attention_heads=20, projection_dim=1280, hidden_act="gelu"))
    vae = AutoencoderKL(block_out_channels=(128, 256, 512, 512), layers_per_block=2, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
                        scaling_factor=0.13025, force_upcast=True, sample_size=1024)
    return dict(vae=vae, text_encoder=clip_l, text_encoder_2=clip_g, unet=unet)


def sd15() -> dict[str, torch.nn.Module]:
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    unet = UNet2DConditionModel(sample_size=64, cross_attention_dim=768, attention_head_dim=8,
                                block_out_channels=(320, 640, 1280, 1280), layers_per_block=2)
    encoder = CLIPTextModel(CLIPTextConfig(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                                           num_attention_heads=12, hidden_act="quick_gelu"))
    vae = AutoencoderKL(block_out_channels=(128, 256, 512, 512), layers_per_block=2, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
                        sample_size=512)
    return dict(vae=vae, text_encoder=encoder, unet=unet)


def zimage() -> dict[str, torch.nn.Module]:
    from diffusers import AutoencoderKL
    from diffusers.models.transformers.transformer_z_image import ZImageTransformer2DModel
    from transformers import Qwen3Config, Qwen3Model

    encoder = Qwen3Model(Qwen3Config(vocab_size=151_936, hidden_size=2560, intermediate_size=9728,
                                     num_hidden_layers=36, num_attention_heads=32, num_key_value_heads=8, head_dim=128))
    vae = AutoencoderKL(block_out_channels=(128, 256, 512, 512), layers_per_block=2, latent_channels=16,
                        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
                        scaling_factor=0.3611, shift_factor=0.1159, use_quant_conv=False, use_post_quant_conv=False)
    # The transformer's defaults in diffusers are Z-Image's published sizes.
    return dict(vae=vae, text_encoder=encoder, transformer=ZImageTransformer2DModel())


def controlnet_for(unet: UNet2DConditionModel) -> ControlNetModel:
    """A ControlNet of the UNet's own layout (what diffusers' SDXL and SD 1.5 ControlNets are)."""
    from diffusers import ControlNetModel

    return ControlNetModel.from_unet(unet, load_weights_from_unet=False)


def zimage_union_controlnet() -> ZImageControlNetModel:
    """Z-Image-Turbo-Fun-Controlnet-Union: control blocks on 6 of the 30 layers, 2 refiner blocks."""
    from diffusers.models.controlnets.controlnet_z_image import ZImageControlNetModel

    return ZImageControlNetModel(control_layers_places=[0, 5, 10, 15, 20, 25], control_refiner_layers_places=[0, 1],
                                 control_in_dim=16, add_control_noise_refiner="control_noise_refiner")


def clip_vision_h() -> CLIPVisionModelWithProjection:
    """OpenCLIP ViT-H/14's vision tower, the image encoder both IP-Adapters read."""
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    return CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=1280, intermediate_size=5120, num_hidden_layers=32, num_attention_heads=16, patch_size=14,
        image_size=224, projection_dim=1024, hidden_act="gelu"))


def on_meta(build: Callable[[], T]) -> T:
    """``build()`` on the meta device: shapes only, nothing allocated, nothing read."""
    import torch

    with torch.device("meta"):
        return build()
