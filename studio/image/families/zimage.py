"""Z-Image Turbo: a single-stream diffusion transformer read by a Qwen3 text encoder, so a
Chinese prompt is used as it is. Distilled for 8 steps without guidance."""

from __future__ import annotations

from studio.image.families.base import FamilyDefaults, ImageFamily
from studio.image.schedulers import FLOW_SCHEDULERS

ZIMAGE = ImageFamily(
    name="zimage",
    label="Z-Image Turbo",
    pipeline_classes={
        "txt2img": "ZImagePipeline",
        "img2img": "ZImageImg2ImgPipeline",
        "inpaint": "ZImageInpaintPipeline",
        "controlnet": "ZImageControlNetPipeline",  # txt2img steered by one PyraCanny / CPDS map
    },
    # diffusers >= 0.36 spaces the sigmas from 1 to 1/steps, so 8 steps are 8 transformer passes.
    defaults=FamilyDefaults(steps=8, cfg=0.0, scheduler="Flow Euler", width=1024, height=1024, size_multiple=16),
    schedulers=FLOW_SCHEDULERS,
    twin="studio.image.tiny_twins:build_zimage",
    full_size="studio.image.full_size:zimage",
    single_file_markers=("cap_embedder.", "model.diffusion_model.cap_embedder."),
    single_file_config="Tongyi-MAI/Z-Image-Turbo",
    expansion_target="zimage",
    train_note="a transformer read by a Qwen3 encoder; the training loop is written for SDXL's UNet",
    step_seconds_per_mp=0.35,
    unused={
        "negative_prompt": "Z-Image Turbo runs without guidance (CFG 0): the negative prompt acts only with CFG above 0, which doubles the time.",
        "performance": "Z-Image Turbo is distilled for 8 steps; the Speed / Quality presets are for SDXL.",
        "scheduler": "Z-Image uses its own flow-matching scheduler.",
        "sharpness": "Sharpness works on an SDXL / SD 1.5 UNet's guided noise prediction; Z-Image Turbo's transformer "
                     "predicts a flow and draws without guidance.",
        "adaptive_cfg": "Z-Image Turbo draws without CFG (it is distilled for CFG 0), so there is no CFG to mimic.",
        "adm_guidance": "Z-Image has no size conditioning (SDXL's ADM), so there is nothing to scale.",
        "clip_skip": "Z-Image reads the prompt with a Qwen3 language model, not CLIP: there is no CLIP layer to skip.",
    },
    fp16_ok=False,  # fp16 is reported to give black / NaN images: bf16, or fp32 where bf16 is missing
    call_extras={"max_sequence_length": 512},
    lora_modules=("transformer",),
    guidance_threshold=0.0,  # flow-matching guidance acts as soon as CFG is above 0
    # Its union ControlNet reads canny and depth-like maps, one at a time; the stop-at is applied by
    # the request's own view of it (the pipeline has no control_guidance_end).
    image_prompt_models={"PyraCanny": "controlnet_union_zimage", "CPDS": "controlnet_union_zimage"},
    image_prompt_note=(
        "diffusers has no IP-Adapter for Z-Image Turbo, so ImagePrompt and FaceSwap need an SDXL or SD 1.5 "
        "checkpoint; its union ControlNet takes one PyraCanny or CPDS picture at a time."
    ),
    denoise_rounds_up=True,  # diffusers' Z-Image img2img keeps steps - int(steps × (1 - denoise))
)

