"""DreamBooth-style LoRA on an SDXL UNet: the noise-prediction loss on your pictures, with
frozen VAE and text encoders. The result is saved with ``StableDiffusionXLPipeline.save_lora_weights``
into the loras folder, so the Image tab lists it and ``pipe.load_lora_weights`` reads it.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import torch

from studio import jobs
from studio.train import image_data
from studio.train.config import TrainConfig
from studio.train.steps import mark_training, optimiser_from_checkpoint, pick_device, run_steps, save_checkpoint

if TYPE_CHECKING:
    from diffusers import UNet2DConditionModel

UNET_TARGETS = ["to_q", "to_k", "to_v", "to_out.0"]


def unet_lora(unet: UNet2DConditionModel, config: TrainConfig) -> UNet2DConditionModel:
    from peft import LoraConfig

    targets = config.target_modules or UNET_TARGETS
    unet.requires_grad_(False)
    unet.add_adapter(LoraConfig(r=config.r, lora_alpha=config.alpha, lora_dropout=config.dropout,
                                init_lora_weights="gaussian", target_modules=targets))
    return unet


def estimate_unet(location: str, config: TrainConfig) -> dict[str, Any]:
    """Trainable / total UNet parameters with LoRA, built on the meta device from its config."""
    from diffusers import UNet2DConditionModel

    unet_config = UNet2DConditionModel.load_config(location, subfolder="unet")
    with torch.device("meta"):
        unet = UNet2DConditionModel.from_config(unet_config)
    unet_lora(unet, config)
    trainable = sum(p.numel() for p in unet.parameters() if p.requires_grad)
    total = sum(p.numel() for p in unet.parameters())
    return {"trainable_parameters": trainable, "total_parameters": total,
            "trainable_percent": round(100 * trainable / total, 4), "target_modules": config.target_modules or UNET_TARGETS}


def _encode_prompts(pipe_parts: dict, captions: list[str], device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """SDXL's two-encoder prompt embedding (penultimate hidden states, pooled from the second)."""
    embeds, pooled = [], None
    for tokenizer, encoder in ((pipe_parts["tokenizer"], pipe_parts["text_encoder"]),
                               (pipe_parts["tokenizer_2"], pipe_parts["text_encoder_2"])):
        ids = tokenizer(captions, padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                        return_tensors="pt").input_ids.to(device)
        out = encoder(ids, output_hidden_states=True)
        embeds.append(out.hidden_states[-2])
        pooled = out[0]  # the projection encoder's pooled text embedding
    return torch.cat(embeds, dim=-1), pooled


def train_image(folder: Path, should_stop: Callable[[], bool], fail_at_step: int = 0) -> dict[str, Any]:
    from diffusers import AutoencoderKL, DDPMScheduler, StableDiffusionXLPipeline, UNet2DConditionModel
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft.utils import get_peft_model_state_dict
    from PIL import Image
    from safetensors.torch import save_file
    from transformers import AutoTokenizer, CLIPTextModel, CLIPTextModelWithProjection

    job = jobs.read_json(folder / "job.json")
    config = TrainConfig.from_dict(job["config"])
    device = pick_device(job.get("device", "auto"))
    torch.manual_seed(config.seed)
    location = job["model_path"]
    parts = {
        "tokenizer": AutoTokenizer.from_pretrained(location, subfolder="tokenizer"),
        "tokenizer_2": AutoTokenizer.from_pretrained(location, subfolder="tokenizer_2"),
        "text_encoder": CLIPTextModel.from_pretrained(location, subfolder="text_encoder").to(device).eval(),
        "text_encoder_2": CLIPTextModelWithProjection.from_pretrained(location, subfolder="text_encoder_2").to(device).eval(),
    }
    vae = AutoencoderKL.from_pretrained(location, subfolder="vae").to(device).eval()
    noise_scheduler = DDPMScheduler.from_pretrained(location, subfolder="scheduler")
    unet = unet_lora(UNet2DConditionModel.from_pretrained(location, subfolder="unet"), config).to(device)
    if config.gradient_checkpointing:
        unet.enable_gradient_checkpointing()

    # Frozen parts run once: latents and prompt embeddings of every picture are cached.
    pairs = image_data.captioned(folder / "images", config.instance_prompt) * config.repeats
    size = config.resolution
    latents, prompt_embeds, pooled = [], [], []
    with torch.no_grad():
        for image_path, caption in pairs:
            picture = Image.open(image_path).convert("RGB").resize((size, size))
            pixels = torch.from_numpy(np.array(picture)).float().permute(2, 0, 1) / 127.5 - 1
            latent = vae.encode(pixels[None].to(device)).latent_dist.sample() * vae.config.scaling_factor
            text, pooled_text = _encode_prompts(parts, [caption], device)
            latents.append(latent[0])
            prompt_embeds.append(text[0])
            pooled.append(pooled_text[0])
    del parts, vae
    time_ids = torch.tensor([size, size, 0, 0, size, size], dtype=torch.float32, device=device)

    total = config.max_steps or -(-len(pairs) // config.batch_size) * config.epochs
    optimizer, scheduler, step = optimiser_from_checkpoint(unet, config, folder, job, total, device)
    mark_training(folder, step, total)

    def write_adapter(target: Path) -> None:
        save_file({k: v.contiguous() for k, v in get_peft_model_state_dict(unet).items()},
                  target / "adapter_model.safetensors")

    def checkpoint(at: int) -> None:
        save_checkpoint(folder, at, write_adapter, optimizer, scheduler)

    def micro_batch(index: int) -> tuple[torch.Tensor, int]:
        rng = random.Random(config.seed * 1_000_003 + index)  # the same pictures and noise on Resume
        picked = [rng.randrange(len(latents)) for _ in range(config.batch_size)]
        clean = torch.stack([latents[i] for i in picked])
        noise = torch.randn_like(clean)
        timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (len(picked),), device=device)
        noisy = noise_scheduler.add_noise(clean, noise, timesteps)
        predicted = unet(noisy, timesteps, encoder_hidden_states=torch.stack([prompt_embeds[i] for i in picked]),
                         added_cond_kwargs={"text_embeds": torch.stack([pooled[i] for i in picked]),
                                            "time_ids": time_ids.repeat(len(picked), 1)}).sample
        target = noise if noise_scheduler.config.prediction_type == "epsilon" else noise_scheduler.get_velocity(clean, noise, timesteps)
        return torch.nn.functional.mse_loss(predicted.float(), target.float()) / config.grad_accumulation, len(picked)

    unet.train()
    step = run_steps(folder, config, step=step, total=total, micro_batch=micro_batch, optimizer=optimizer,
                     scheduler=scheduler, checkpoint=checkpoint, should_stop=should_stop, fail_at_step=fail_at_step)
    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))
    # Into a staging folder first, then one rename into the loras folder: never half a file there.
    staging = folder / ".lora-staging"
    StableDiffusionXLPipeline.save_lora_weights(staging, unet_lora_layers=layers)
    loras = Path(job["loras_dir"])
    loras.mkdir(parents=True, exist_ok=True)
    target = loras / f"{job['name']}.safetensors"
    (folder / "adapter").mkdir(exist_ok=True)
    shutil.copyfile(staging / "pytorch_lora_weights.safetensors", folder / "adapter" / "pytorch_lora_weights.safetensors")
    os.replace(staging / "pytorch_lora_weights.safetensors", target)
    jobs.write_json(folder / "image_lora.json", {"path": str(target)})
    return {"steps": step}
