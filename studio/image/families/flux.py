"""FLUX.1 [schnell]: a 12B rectified-flow transformer read by a T5-XXL encoder (and CLIP-L's
pooled vector), distilled to draw in 4 steps without guidance. Apache-2.0.

This one module is the whole family: what the studio needs to know, its tiny twin (the same
diffusers classes and folder layout at a size a CPU runs in milliseconds) and its full-size
architecture for the memory planner.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.errors import BadInput
from studio.image.families.base import FamilyDefaults, ImageFamily, PromptWindow
from studio.image.schedulers import FLOW_SCHEDULERS

if TYPE_CHECKING:
    import torch
    from diffusers import DiffusionPipeline
    from transformers import PreTrainedTokenizerBase

HUB_ID = "black-forest-labs/FLUX.1-schnell"
T5_WINDOW = 256  # schnell's max_sequence_length: what its T5 reads of a prompt


class FluxFamily(ImageFamily):
    def latent_image(self, latents: torch.Tensor, width: int, height: int) -> torch.Tensor:
        """FLUX steps on packed latents, (tokens, 16 × 2 × 2): unpacked to (16, H/8, W/8)."""
        if latents.dim() != 2:
            return latents
        rows, cols = height // 16, width // 16
        channels = latents.shape[1] // 4
        grid = latents.reshape(rows, cols, channels, 2, 2).permute(2, 0, 3, 1, 4)
        return grid.reshape(channels, rows * 2, cols * 2)

    def load_single_file(self, path: Path, dtype: torch.dtype, config: str | None) -> DiffusionPipeline:
        # A FLUX .safetensors (ComfyUI's flux1-schnell.safetensors) holds the transformer only:
        # the T5 and CLIP encoders and the VAE are separate downloads of several GB.
        raise BadInput(
            f"{path.name} is a FLUX.1 transformer on its own (no text encoders or VAE). Pick {HUB_ID} "
            "instead, or put its diffusers folder (with model_index.json) in the checkpoints folder."
        )


FLUX = FluxFamily(
    name="flux",
    label="FLUX.1 schnell",
    pipeline_classes={
        "txt2img": "FluxPipeline",
        "img2img": "FluxImg2ImgPipeline",
        "inpaint": "FluxInpaintPipeline",
    },
    # CFG 1 is no guidance: schnell is distilled to draw without it (its card: 4 steps, guidance 0).
    defaults=FamilyDefaults(steps=4, cfg=1.0, scheduler="Flow Euler", width=1024, height=1024, size_multiple=16),
    schedulers=FLOW_SCHEDULERS,
    description="reads English through T5-XXL (256 tokens); 4 steps without guidance.",
    twin="studio.image.families.flux:build_twin",
    full_size="studio.image.families.flux:full_size_modules",
    single_file_markers=("double_blocks.", "model.diffusion_model.double_blocks."),
    single_file_config=HUB_ID,
    expansion_target="zimage",  # T5 reads natural sentences best, not SDXL's tag lists
    train_note="a 12B transformer read by T5; the training loop is written for SDXL's UNet",
    # About twice Z-Image's 6B transformer per step, at 4096 image tokens per megapixel.
    step_seconds_per_mp=0.6,
    unused={
        "negative_prompt": "FLUX.1 schnell runs without guidance (CFG 1): the negative prompt acts only with CFG "
                           "above 1 (true CFG), which doubles the time.",
        "performance": "FLUX.1 schnell is distilled for 4 steps; the Speed / Quality presets are for SDXL.",
        "scheduler": "FLUX uses its own flow-matching scheduler.",
        "sharpness": "Sharpness works on an SDXL / SD 1.5 UNet's guided noise prediction; FLUX.1 schnell's transformer "
                     "predicts a flow and draws without guidance.",
        "adaptive_cfg": "FLUX.1 schnell draws without CFG (it is distilled for CFG 1), so there is no CFG to mimic.",
        "adm_guidance": "FLUX has no size conditioning (SDXL's ADM), so there is nothing to scale.",
        "clip_skip": "FLUX reads the prompt through T5; its CLIP encoder gives only a pooled vector, with no layer to skip.",
    },
    prompt_window=PromptWindow(tokenizer_attr="tokenizer_2", limit=T5_WINDOW, name="T5"),
    fp16_ok=False,  # T5's activations overflow fp16: bf16, or fp32 where bf16 is missing
    # Its guidance_scale feeds a distilled-guidance embedding schnell does not have; the CFG value
    # is true CFG (a second pass with the negative prompt) above 1.
    cfg_argument="true_cfg_scale",
    call_extras={"guidance_scale": 0.0, "max_sequence_length": T5_WINDOW},
    lora_modules=("transformer",),
    guidance_threshold=1.0,
    denoise_rounds_up=True,  # its img2img / inpaint keep steps - int(steps × (1 - denoise)), as Z-Image's
    image_prompt_note=(
        "The studio's image-prompt models (IP-Adapters, canny and CPDS ControlNets) are made for SDXL and SD 1.5; "
        "pick one of those checkpoints for image prompts."
    ),
)


# -- tiny twin: a FluxPipeline folder with FLUX's classes, layout and 16-channel packed latents --

def _t5_tokenizer(folder: Path) -> PreTrainedTokenizerBase:
    """A T5 (Unigram) tokenizer trained on the project's corpus, as FLUX's tokenizer_2."""
    import json

    from tokenizers import trainers
    from transformers.models.t5.tokenization_t5 import T5Tokenizer

    from studio.text.tiny_twins import CORPUS

    backend = T5Tokenizer(extra_ids=0).backend_tokenizer
    backend.train([str(CORPUS)], trainers.UnigramTrainer(
        vocab_size=1024, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>", show_progress=False))
    vocab = [tuple(piece) for piece in json.loads(backend.to_str())["model"]["vocab"]]
    tokenizer = T5Tokenizer(vocab=vocab, extra_ids=0, model_max_length=512)
    tokenizer.save_pretrained(folder)
    return tokenizer


def build_twin(folder: Path) -> None:
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel
    from transformers import CLIPTokenizer, T5Config, T5EncoderModel

    from studio.image import tiny_twins

    torch.manual_seed(tiny_twins.SEED)
    tiny_twins._clip_tokenizer(folder / "tokenizer")
    tokenizer = CLIPTokenizer.from_pretrained(folder / "tokenizer")
    clip, _ = tiny_twins._clip_encoders(len(tokenizer))
    tokenizer_2 = _t5_tokenizer(folder / "tokenizer_2")
    t5 = T5EncoderModel(T5Config(
        vocab_size=len(tokenizer_2), d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4,
        feed_forward_proj="gated-gelu", pad_token_id=0, eos_token_id=1,
    ))
    transformer = FluxTransformer2DModel(
        in_channels=64, num_layers=1, num_single_layers=1, attention_head_dim=16, num_attention_heads=2,
        joint_attention_dim=32, pooled_projection_dim=tiny_twins.CLIP_HIDDEN, axes_dims_rope=(4, 6, 6),
    )
    scheduler = FlowMatchEulerDiscreteScheduler(  # schnell's: a fixed shift of 1
        num_train_timesteps=1000, shift=1.0, use_dynamic_shifting=False, base_shift=0.5, max_shift=1.15,
        base_image_seq_len=256, max_image_seq_len=4096,
    )
    vae = tiny_twins._vae(16, scaling_factor=0.3611, shift_factor=0.1159, use_quant_conv=False,
                          use_post_quant_conv=False, force_upcast=False)
    FluxPipeline(scheduler=scheduler, vae=vae, text_encoder=clip, tokenizer=tokenizer, text_encoder_2=t5,
                 tokenizer_2=tokenizer_2, transformer=transformer).save_pretrained(folder)


# -- full size: the published architecture, for the memory planner (built on the meta device) --

def full_size_modules() -> dict[str, Any]:
    from diffusers import AutoencoderKL, FluxTransformer2DModel
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel

    clip_l = CLIPTextModel(CLIPTextConfig(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                                          num_attention_heads=12, projection_dim=768))
    t5_xxl = T5EncoderModel(T5Config(vocab_size=32_128, d_model=4096, d_kv=64, d_ff=10_240, num_layers=24,
                                     num_heads=64, feed_forward_proj="gated-gelu"))
    vae = AutoencoderKL(block_out_channels=(128, 256, 512, 512), layers_per_block=2, latent_channels=16,
                        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
                        scaling_factor=0.3611, shift_factor=0.1159, use_quant_conv=False, use_post_quant_conv=False)
    # diffusers' defaults are FLUX.1's published sizes (19 double, 38 single blocks, width 3072).
    return dict(vae=vae, text_encoder=clip_l, text_encoder_2=t5_xxl, transformer=FluxTransformer2DModel())
