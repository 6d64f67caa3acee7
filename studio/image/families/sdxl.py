"""Stable Diffusion XL (and SD 1.5, the same UNet pipeline design at 512 px)."""

from __future__ import annotations

from studio.image.families.base import FamilyDefaults, ImageFamily, PromptWindow
from studio.image.schedulers import UNET_SCHEDULERS

CLIP_WINDOW = PromptWindow(tokenizer_attr="tokenizer", limit=77, name="CLIP")

SDXL = ImageFamily(
    name="sdxl",
    label="Stable Diffusion XL",
    pipeline_classes={
        "txt2img": "StableDiffusionXLPipeline",
        "img2img": "StableDiffusionXLImg2ImgPipeline",
        "inpaint": "StableDiffusionXLInpaintPipeline",
        "controlnet": "StableDiffusionXLControlNetPipeline",  # txt2img steered by PyraCanny / CPDS
        "controlnet_img2img": "StableDiffusionXLControlNetImg2ImgPipeline",  # Vary, upscale refine
        "controlnet_inpaint": "StableDiffusionXLControlNetInpaintPipeline",  # Inpaint, Outpaint, Enhance
    },
    defaults=FamilyDefaults(steps=30, cfg=7.0, scheduler="DPM++ 2M Karras", width=1024, height=1024, size_multiple=8),
    schedulers=UNET_SCHEDULERS,
    twin="studio.image.tiny_twins:build_sdxl",
    full_size="studio.image.full_size:sdxl",
    single_file_markers=("conditioner.embedders.1.model.",),
    single_file_config="stabilityai/stable-diffusion-xl-base-1.0",
    step_seconds_per_mp=0.2,  # ~0.1 s per CFG step at 1024² on a whole H100, twice that on a slice
    prompt_window=CLIP_WINDOW,
    prompt_weights="sdxl",
    image_prompt_models={"ImagePrompt": "ip_adapter", "FaceSwap": "ip_adapter_face",
                         "PyraCanny": "controlnet_canny", "CPDS": "controlnet_cpds"},
    # A published linear fit from SDXL's 4 latent channels to RGB: previews without a VAE decode.
    latent_rgb=((0.3651, 0.4232, 0.4341), (-0.2533, -0.0042, 0.1068), (0.1076, 0.1111, -0.0362),
                (-0.3165, -0.2492, -0.2188)),
    latent_rgb_bias=(0.1084, -0.0175, -0.0011),
    native_clip_skip=2,  # SDXL reads both encoders' penultimate layer (Fooocus's default CLIP skip 2 is the same)
)

SD15 = ImageFamily(
    name="sd15",
    label="Stable Diffusion 1.5",
    pipeline_classes={
        "txt2img": "StableDiffusionPipeline",
        "img2img": "StableDiffusionImg2ImgPipeline",
        "inpaint": "StableDiffusionInpaintPipeline",
        "controlnet": "StableDiffusionControlNetPipeline",
        "controlnet_img2img": "StableDiffusionControlNetImg2ImgPipeline",
        "controlnet_inpaint": "StableDiffusionControlNetInpaintPipeline",
    },
    defaults=FamilyDefaults(steps=30, cfg=7.0, scheduler="DPM++ 2M Karras", width=512, height=512, size_multiple=8),
    schedulers=UNET_SCHEDULERS,
    twin="studio.image.tiny_twins:build_sd15",
    full_size="studio.image.full_size:sd15",
    single_file_markers=("cond_stage_model.",),
    single_file_config="stable-diffusion-v1-5/stable-diffusion-v1-5",
    train_note="one CLIP encoder and no size conditioning; the training loop is written for SDXL's two",
    step_seconds_per_mp=0.12,
    prompt_window=CLIP_WINDOW,
    prompt_weights="sd",
    unused={
        "performance": "The LCM and Lightning presets are SDXL LoRAs; SD 1.5 uses steps and CFG directly.",
        "adm_guidance": "SD 1.5 has no size conditioning (SDXL's ADM), so there is nothing to scale.",
    },
    # Its safety checker (a 1.2 GB CLIP model that blacks out what it flags) is neither downloaded
    # nor run: the studio shows what the model draws, as its SDXL and Z-Image pipelines do.
    load_extras={"safety_checker": None, "requires_safety_checker": False},
    image_prompt_models={"ImagePrompt": "ip_adapter_sd15", "FaceSwap": "ip_adapter_face_sd15",
                         "PyraCanny": "controlnet_canny_sd15", "CPDS": "controlnet_cpds_sd15"},
    latent_rgb=((0.3512, 0.2297, 0.3227), (0.3250, 0.4974, 0.2350), (-0.2829, 0.1762, 0.2721),
                (-0.2120, -0.2616, -0.7177)),
)
