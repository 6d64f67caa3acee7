"""Tiny twins of the image models: the real diffusers / transformers classes and folder
layouts (model_index.json, one subfolder per component, safetensors), at a size that runs
a step in milliseconds on a CPU. Loaded by the very same ``from_pretrained`` path as the
real checkpoints; LoRA twins are written by the pipelines' own ``save_lora_weights``.

Sizes keep what the code depends on: the SDXL VAE still downsamples 8x with 4 latent
channels and the UNet still takes SDXL's "text_time" extra conditioning from two text
encoders; Z-Image's VAE has 16 latent channels and its transformer reads a Qwen3 encoder's
second-to-last hidden state through the Qwen chat template.
"""

from __future__ import annotations

from pathlib import Path

SEED = 0  # the same twin on every machine
CLIP_HIDDEN = 32  # each SDXL text encoder; the UNet cross-attends to both, concatenated
TIME_EMBED = 8  # SDXL's addition_time_embed_dim, scaled down
QWEN_HIDDEN = 32


def _clip_tokenizer(folder: Path) -> None:
    """The tokenizer visualiser's CLIP twin, copied (trained once, not once per pipeline)."""
    import shutil

    from studio.models import tiny

    source = tiny.ensure_built("clip", folder.parent.parent)
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns(tiny.MARKER))


def _clip_encoders(vocab_size: int):
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    config = CLIPTextConfig(
        vocab_size=vocab_size, hidden_size=CLIP_HIDDEN, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, max_position_embeddings=77, projection_dim=CLIP_HIDDEN,
        hidden_act="gelu", bos_token_id=0, eos_token_id=1, pad_token_id=1,
    )
    return CLIPTextModel(config), CLIPTextModelWithProjection(config)


def _sdxl_unet(in_channels: int = 4, text_time: bool = True):
    from diffusers import UNet2DConditionModel

    # SDXL adds "text_time" conditioning (sizes, crops, pooled text) and reads two encoders;
    # SD 1.5 reads one encoder and nothing else.
    extra = dict(
        cross_attention_dim=2 * CLIP_HIDDEN,
        addition_embed_type="text_time",
        addition_time_embed_dim=TIME_EMBED,
        projection_class_embeddings_input_dim=6 * TIME_EMBED + CLIP_HIDDEN,
    ) if text_time else dict(cross_attention_dim=CLIP_HIDDEN)
    return UNet2DConditionModel(
        sample_size=32,
        in_channels=in_channels,
        out_channels=4,
        # Attention only at the lowest resolution, as cheap as SDXL's layout allows on a CPU.
        block_out_channels=(16, 32, 64),
        layers_per_block=1,
        down_block_types=("DownBlock2D", "DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4, 4),
        transformer_layers_per_block=(1, 1, 1),
        use_linear_projection=True,
        norm_num_groups=8,
        **extra,
    )


def _vae(latent_channels: int, **extra):
    from diffusers import AutoencoderKL

    # Four blocks: three 2x downsamplings, the real 8x factor, with few channels.
    return AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=latent_channels,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(8, 8, 16, 16), layers_per_block=1, norm_num_groups=8,
        sample_size=128, mid_block_add_attention=False, **extra,
    )


def build_sdxl(folder: Path) -> None:
    """A ``StableDiffusionXLPipeline`` folder with SDXL's components and scheduler config."""
    import torch
    from diffusers import EulerDiscreteScheduler, StableDiffusionXLPipeline
    from transformers import CLIPTokenizer

    torch.manual_seed(SEED)
    _clip_tokenizer(folder / "tokenizer")
    _clip_tokenizer(folder / "tokenizer_2")
    tokenizer = CLIPTokenizer.from_pretrained(folder / "tokenizer")
    text_encoder, text_encoder_2 = _clip_encoders(len(tokenizer))
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1,
        timestep_spacing="leading", num_train_timesteps=1000,
    )
    pipe = StableDiffusionXLPipeline(
        vae=_vae(4, scaling_factor=0.13025, force_upcast=True),
        text_encoder=text_encoder,
        text_encoder_2=text_encoder_2,
        tokenizer=tokenizer,
        tokenizer_2=CLIPTokenizer.from_pretrained(folder / "tokenizer_2"),
        unet=_sdxl_unet(),
        scheduler=scheduler,
    )
    pipe.save_pretrained(folder)


def build_sd15(folder: Path) -> None:
    """A ``StableDiffusionPipeline`` folder (SD 1.5's layout: one CLIP encoder, 512 px)."""
    import torch
    from diffusers import PNDMScheduler, StableDiffusionPipeline
    from transformers import CLIPTokenizer

    torch.manual_seed(SEED)
    _clip_tokenizer(folder / "tokenizer")
    tokenizer = CLIPTokenizer.from_pretrained(folder / "tokenizer")
    text_encoder, _ = _clip_encoders(len(tokenizer))
    scheduler = PNDMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1,
                              skip_prk_steps=True)
    pipe = StableDiffusionPipeline(
        vae=_vae(4, scaling_factor=0.18215), text_encoder=text_encoder, tokenizer=tokenizer,
        unet=_sdxl_unet(text_time=False), scheduler=scheduler, safety_checker=None, feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder)


def build_zimage(folder: Path) -> None:
    """A ``ZImagePipeline`` folder: Qwen3 text encoder with the chat template, the single-stream
    transformer, a 16-channel VAE and the flow-matching scheduler."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, ZImagePipeline
    from diffusers.models.transformers.transformer_z_image import ZImageTransformer2DModel
    from transformers import AutoTokenizer, Qwen3Config, Qwen3Model

    from studio.models import tiny

    torch.manual_seed(SEED)
    # The text twin's byte-level BPE with the ChatML template, as Z-Image's Qwen tokenizer.
    tokenizer = AutoTokenizer.from_pretrained(tiny.ensure_built("qwen2-chat", folder.parent))
    text_encoder = Qwen3Model(Qwen3Config(
        vocab_size=len(tokenizer), hidden_size=QWEN_HIDDEN, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=8, max_position_embeddings=1024,
    ))
    transformer = ZImageTransformer2DModel(
        in_channels=16, dim=64, n_layers=2, n_refiner_layers=1, n_heads=2, n_kv_heads=2,
        cap_feat_dim=QWEN_HIDDEN, axes_dims=[8, 12, 12], axes_lens=[256, 128, 128],
    )
    scheduler = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=3.0, use_dynamic_shifting=False)
    pipe = ZImagePipeline(
        scheduler=scheduler,
        vae=_vae(16, scaling_factor=0.3611, shift_factor=0.1159, force_upcast=False),
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
    )
    pipe.save_pretrained(folder)


def _lora_state(unet, rank: int, seed: int) -> dict:
    """A LoRA on the UNet's attention projections with random (non-zero) up weights, so it
    visibly changes the output, as a trained one does."""
    import torch
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    torch.manual_seed(seed)
    unet.add_adapter(LoraConfig(r=rank, lora_alpha=rank, target_modules=["to_q", "to_k", "to_v", "to_out.0"],
                                init_lora_weights=False))
    return get_peft_model_state_dict(unet)


def _sdxl_lora(folder: Path, seed: int) -> None:
    from diffusers import StableDiffusionXLPipeline, UNet2DConditionModel

    from studio.models import tiny

    base = tiny.ensure_built("sdxl", folder.parent)
    unet = UNet2DConditionModel.from_pretrained(base, subfolder="unet")
    StableDiffusionXLPipeline.save_lora_weights(folder, unet_lora_layers=_lora_state(unet, 4, seed))


def build_sdxl_lcm_lora(folder: Path) -> None:
    """Stands in for the LCM-LoRA: same file name and key layout as latent-consistency's."""
    _sdxl_lora(folder, seed=1)


def build_sdxl_lightning_lora(folder: Path) -> None:
    """Stands in for SDXL-Lightning's 4-step LoRA."""
    _sdxl_lora(folder, seed=2)
