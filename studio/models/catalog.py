"""The model catalog: for each capability, a default Hub id, the ids a user can pick,
and the tiny twin each one maps to in the offline ``tiny`` profile."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from studio import zero_gpu
from studio.errors import BadInput, ModelUnavailable
from studio.models.specs import ModelSpec
from studio.settings import Settings, SettingsError


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    kind: str
    default: str
    description: str
    # Hub id -> tiny twin name; the default must be among them.
    twins: dict[str, str] = field(default_factory=dict)
    subfolder: str | None = None
    # A model made of several components (an image pipeline: unet/transformer, vae, text
    # encoders) is still one entry: its loader reads model_index.json and builds them all;
    # the Models tab lists each component's memory from the loaded value.
    components: tuple[str, ...] = ()
    weight_name: str | None = None  # one file inside the repo (LoRAs)
    vram_gb: dict[str, float] = field(default_factory=dict)  # Hub id -> GPU memory it needs
    notes: dict[str, str] = field(default_factory=dict)  # Hub id -> why it is offered
    # Hub id -> the weight variant its repo publishes (fp16: half the download of the fp32 files,
    # loaded in the studio's dtype all the same); fetched unless the studio runs in fp32.
    variants: dict[str, str] = field(default_factory=dict)
    # Hub id -> the commit to download (a mirror that is not the authors' own is pinned).
    revisions: dict[str, str] = field(default_factory=dict)
    # The ids a ZeroGPU Space offers (preloaded when the Space is built, loaded at start-up: see
    # studio.space_config); none: the capability is not offered on a Space.
    space: tuple[str, ...] = ()

    @property
    def choices(self) -> list[str]:
        return list(self.twins)


def one_model(name: str, kind: str, model_id: str, twin: str, description: str, *,
              vram_gb: float | None = None, note: str | None = None, on_space: bool = False, **fields) -> CatalogEntry:
    """An entry that offers a single Hub id (an adapter, a ControlNet, one ONNX file);
    ``on_space``: a ZeroGPU Space offers it too."""
    return CatalogEntry(
        name=name, kind=kind, default=model_id, description=description, twins={model_id: twin},
        vram_gb={} if vram_gb is None else {model_id: vram_gb}, notes={} if note is None else {model_id: note},
        space=(model_id,) if on_space else (), **fields,
    )


CATALOG: dict[str, CatalogEntry] = {
    entry.name: entry
    for entry in (
        CatalogEntry(
            name="text",
            kind="causal_lm",
            default="Qwen/Qwen2.5-1.5B-Instruct",
            description="Chat and completion LLM for the Text tab and prompt expansion.",
            twins={
                "Qwen/Qwen2.5-1.5B-Instruct": "qwen2-chat",
                "Qwen/Qwen2.5-0.5B-Instruct": "qwen2-chat",
                "Qwen/Qwen2.5-3B-Instruct": "qwen2-chat",
                "bigscience/bloom-560m": "bloom",
                "openai-community/gpt2": "gpt2",
            },
            space=("Qwen/Qwen2.5-1.5B-Instruct",),
        ),
        CatalogEntry(
            name="tokenizer",
            kind="tokenizer",
            default="openai-community/gpt2",
            description="Tokenizers offered by the tokenizer visualiser.",
            twins={
                "openai-community/gpt2": "gpt2",
                "Qwen/Qwen2.5-1.5B-Instruct": "qwen2-chat",
                "bigscience/bloom-560m": "bloom",
                "google-bert/bert-base-chinese": "bert-wordpiece",
                "openai/clip-vit-large-patch14": "clip",
            },
            # Every tokenizer on a Space too: a few MB read outside any GPU call, on first use.
            space=("openai-community/gpt2", "Qwen/Qwen2.5-1.5B-Instruct", "bigscience/bloom-560m",
                   "google-bert/bert-base-chinese", "openai/clip-vit-large-patch14"),
        ),
        CatalogEntry(
            name="diffusion_text",
            kind="masked_lm",
            default="dllm-hub/ModernBERT-large-chat-v0.1",
            description="Masked-diffusion chat model for the Text tab's Diffusion mode (unmasks the answer step by step).",
            twins={
                "dllm-hub/ModernBERT-large-chat-v0.1": "modernbert-chat",
                "dllm-hub/ModernBERT-base-chat-v0.1": "modernbert-chat",
            },
            vram_gb={"dllm-hub/ModernBERT-large-chat-v0.1": 1.0, "dllm-hub/ModernBERT-base-chat-v0.1": 0.4},
            space=("dllm-hub/ModernBERT-large-chat-v0.1",),
            notes={
                "dllm-hub/ModernBERT-large-chat-v0.1": (
                    "ModernBERT-large (0.4B parameters, ModernBertForMaskedLM) tuned by the dLLM authors as a "
                    "diffusion chatbot on tulu-3-sft-mixture and smoltalk; loads with transformers' own classes. "
                    "English; about 0.8 GB in fp16."
                ),
                "dllm-hub/ModernBERT-base-chat-v0.1": (
                    "ModernBERT-base (0.15B parameters) tuned the same way: the small, fast one. About 0.3 GB in fp16."
                ),
            },
        ),
        CatalogEntry(
            name="fill_mask",
            kind="masked_lm",
            default="google-bert/bert-base-chinese",
            description="Chinese masked LM for the Diffusion mode's fill-mask panel (candidates for each [MASK]).",
            twins={"google-bert/bert-base-chinese": "bert-chinese-mlm"},
            vram_gb={"google-bert/bert-base-chinese": 0.5},
            space=("google-bert/bert-base-chinese",),
            notes={
                "google-bert/bert-base-chinese": (
                    "BERT-base (BertForMaskedLM, 0.1B parameters) whose 21,128-token vocabulary reads Chinese one "
                    "character at a time; about 0.4 GB."
                ),
            },
        ),
        CatalogEntry(
            name="vq",
            kind="vq",
            default="amused/amused-256",
            subfolder="vqvae",
            description="VQ-GAN image tokenizer (image as a sequence of codebook indices).",
            twins={"amused/amused-256": "vq", "amused/amused-512": "vq"},
            space=("amused/amused-256",),
        ),
        CatalogEntry(
            name="image",
            kind="image_pipeline",
            default="stabilityai/stable-diffusion-xl-base-1.0",
            description="Image generator checkpoints (SDXL, Z-Image Turbo, FLUX.1 schnell, SD 1.5) for the Image tab.",
            components=("unet / transformer", "vae", "text encoders", "tokenizers", "scheduler"),
            twins={
                "stabilityai/stable-diffusion-xl-base-1.0": "sdxl",
                "Tongyi-MAI/Z-Image-Turbo": "zimage",
                "stable-diffusion-v1-5/stable-diffusion-v1-5": "sd15",
                "black-forest-labs/FLUX.1-schnell": "flux",
            },
            vram_gb={"stabilityai/stable-diffusion-xl-base-1.0": 8.0, "Tongyi-MAI/Z-Image-Turbo": 16.0,
                     "stable-diffusion-v1-5/stable-diffusion-v1-5": 4.0, "black-forest-labs/FLUX.1-schnell": 24.0},
            # Z-Image publishes bf16 weights only (no variant): 20 GB either way.
            variants={"stabilityai/stable-diffusion-xl-base-1.0": "fp16", "stable-diffusion-v1-5/stable-diffusion-v1-5": "fp16"},
            # Not FLUX on a Space: 33 GB of bf16 weights beside the rest is more than its RAM holds packed;
            # not SD 1.5, whose four image-prompt models would double the preload for the older model.
            space=("stabilityai/stable-diffusion-xl-base-1.0", "Tongyi-MAI/Z-Image-Turbo"),
            notes={
                "stabilityai/stable-diffusion-xl-base-1.0": (
                    "The SDXL base every Fooocus preset and SDXL LoRA is made for; fp16/bf16 about "
                    "6.9 GB of weights, ~8 GB while generating at 1024x1024. CreativeML Open RAIL++-M."
                ),
                "Tongyi-MAI/Z-Image-Turbo": (
                    "6B-parameter transformer read by a Qwen3-4B encoder: Chinese prompts as they are, "
                    "8 steps. bf16 weights about 20 GB (transformer 12, encoder 8); on a smaller GPU the memory "
                    "plan moves the encoder off after encoding (model offload, ~12 GB at 1024²). Apache-2.0."
                ),
                "stable-diffusion-v1-5/stable-diffusion-v1-5": (
                    "The 512 px classic most older LoRAs and tutorials use; ~2 GB of fp16 weights, runs on a "
                    "4 GB GPU. Loaded without its safety checker (never downloaded): the studio shows what the "
                    "model draws, as Fooocus and diffusers' other pipelines do. CreativeML Open RAIL-M."
                ),
                "black-forest-labs/FLUX.1-schnell": (
                    "12B-parameter transformer read by T5-XXL, 4 steps, English prompts. bf16 weights about 33 GB "
                    "(transformer 24, T5 9.5); under 40 GB of GPU the memory plan streams the transformer's "
                    "blocks from pinned CPU RAM (block offload, ~32 GB of RAM). Apache-2.0."
                ),
            },
        ),
        one_model(
            "lcm_lora", "image_lora", "latent-consistency/lcm-lora-sdxl", "sdxl-lcm-lora",
            "LCM-LoRA for SDXL: the Extreme Speed preset (8 steps, CFG 1).",
            vram_gb=0.4, weight_name="pytorch_lora_weights.safetensors",
            on_space=True,
        ),
        one_model(
            "lightning_lora", "image_lora", "ByteDance/SDXL-Lightning", "sdxl-lightning-lora",
            "SDXL-Lightning 4-step LoRA: the Lightning preset (4 steps, CFG 1).",
            vram_gb=0.4, weight_name="sdxl_lightning_4step_lora.safetensors",
            on_space=True,
        ),
        CatalogEntry(
            name="describe",
            kind="captioner",
            default="Salesforce/blip-image-captioning-base",
            description="Image captioner for the Prompt tab's Describe (image -> prompt).",
            twins={"Salesforce/blip-image-captioning-base": "blip", "Salesforce/blip-image-captioning-large": "blip"},
            space=("Salesforce/blip-image-captioning-base",),
            vram_gb={"Salesforce/blip-image-captioning-base": 1.0, "Salesforce/blip-image-captioning-large": 2.0},
            notes={
                "Salesforce/blip-image-captioning-base": (
                    "BLIP (ViT-B), about 990 MB in fp32: fast, plain one-line captions; BSD-3-Clause."
                ),
                "Salesforce/blip-image-captioning-large": "BLIP (ViT-L), about 1.9 GB: more detailed captions; BSD-3-Clause.",
            },
        ),
        CatalogEntry(
            name="classifier",
            kind="sequence_classifier",
            default="google-bert/bert-base-uncased",
            description="BERT-style base model the Train tab LoRA-tunes as a text classifier (movie reviews).",
            twins={"google-bert/bert-base-uncased": "bert-classifier", "google-bert/bert-base-chinese": "bert-classifier"},
            vram_gb={"google-bert/bert-base-uncased": 1.0, "google-bert/bert-base-chinese": 1.0},
        ),
        CatalogEntry(
            name="upscaler",
            kind="upscaler",
            default="2kpr/Real-ESRGAN/RealESRGAN_x4plus.pth",
            description="Super-resolution model read by spandrel (Edit tab: Upscale), as owner/repo/file on the Hub.",
            twins={"2kpr/Real-ESRGAN/RealESRGAN_x4plus.pth": "esrgan-x4", "2kpr/Real-ESRGAN/RealESRGAN_x2plus.pth": "esrgan-x2"},
            space=("2kpr/Real-ESRGAN/RealESRGAN_x4plus.pth",),
            vram_gb={"2kpr/Real-ESRGAN/RealESRGAN_x4plus.pth": 0.5, "2kpr/Real-ESRGAN/RealESRGAN_x2plus.pth": 0.5},
            notes={
                "2kpr/Real-ESRGAN/RealESRGAN_x4plus.pth": (
                    "Real-ESRGAN x4plus (RRDBNet, 23 blocks, 64 filters; 67 MB fp32), the general-purpose 4x model "
                    "Fooocus-style upscales start from. BSD-3-Clause."
                ),
                "2kpr/Real-ESRGAN/RealESRGAN_x2plus.pth": "Real-ESRGAN x2plus (RRDBNet on a pixel-unshuffled input), 2x. BSD-3-Clause.",
            },
        ),
        # Image prompts (the Image tab's ImagePrompt / PyraCanny / CPDS / FaceSwap slots, SDXL).
        one_model(
            "controlnet_canny", "controlnet", "diffusers/controlnet-canny-sdxl-1.0", "sdxl-controlnet-canny",
            "Canny-edge ControlNet for SDXL: the PyraCanny image prompt.",
            vram_gb=2.5, variants={"diffusers/controlnet-canny-sdxl-1.0": "fp16"},
            note="Trained by the diffusers team on SDXL base with canny edges (white lines on black), what the "
                 "pyramid edge map is; 1.25 B parameters, 2.5 GB in fp16. OpenRAIL++.",
            on_space=True,
        ),
        one_model(
            "controlnet_cpds", "controlnet", "diffusers/controlnet-depth-sdxl-1.0", "sdxl-controlnet-cpds",
            "Structure (depth) ControlNet for SDXL: the CPDS image prompt.",
            vram_gb=2.5, variants={"diffusers/controlnet-depth-sdxl-1.0": "fp16"},
            note="A CPDS map is a grey structure map (near and bright shapes light, gaps dark), the kind of input a "
                 "depth ControlNet follows; a plain ControlNetModel, so it runs next to the canny one in diffusers' "
                 "multi-ControlNet. 2.5 GB in fp16. OpenRAIL++.",
            on_space=True,
        ),
        one_model(
            "ip_adapter", "ip_adapter", "h94/IP-Adapter/sdxl_models/ip-adapter_sdxl_vit-h.safetensors",
            "sdxl-ip-adapter",
            "IP-Adapter for SDXL (style and content of a picture): the ImagePrompt image prompt.",
            vram_gb=0.7,
            note="The SDXL IP-Adapter that reads the ViT-H image encoder (shared with FaceSwap); 698 MB. Apache-2.0.",
            on_space=True,
        ),
        one_model(
            "ip_adapter_face", "ip_adapter", "h94/IP-Adapter/sdxl_models/ip-adapter-plus-face_sdxl_vit-h.safetensors",
            "sdxl-ip-adapter-face",
            "Face IP-Adapter for SDXL (a face's identity from a crop): the FaceSwap image prompt.",
            vram_gb=0.85,
            note="The 'plus face' adapter: a resampler over the ViT-H encoder's patch features of a cropped face, "
                 "16 tokens; 848 MB. Needs no InsightFace model. Apache-2.0.",
            on_space=True,
        ),
        one_model(
            "controlnet_canny_sd15", "controlnet", "lllyasviel/control_v11p_sd15_canny", "sd15-controlnet-canny",
            "Canny-edge ControlNet for SD 1.5: the PyraCanny image prompt.",
            vram_gb=0.7, note="ControlNet 1.1 canny by its author; 361 M parameters. OpenRAIL.",
        ),
        one_model(
            "controlnet_cpds_sd15", "controlnet", "lllyasviel/control_v11f1p_sd15_depth", "sd15-controlnet-cpds",
            "Depth ControlNet for SD 1.5: the CPDS image prompt.",
            vram_gb=0.7, note="ControlNet 1.1 depth by its author; 361 M parameters. OpenRAIL.",
        ),
        one_model(
            "ip_adapter_sd15", "ip_adapter", "h94/IP-Adapter/models/ip-adapter_sd15.safetensors", "sd15-ip-adapter",
            "IP-Adapter for SD 1.5: the ImagePrompt image prompt.",
            vram_gb=0.05, note="Reads the ViT-H encoder; 45 MB. Apache-2.0.",
        ),
        one_model(
            "ip_adapter_face_sd15", "ip_adapter", "h94/IP-Adapter/models/ip-adapter-plus-face_sd15.safetensors",
            "sd15-ip-adapter-face",
            "Face IP-Adapter for SD 1.5: the FaceSwap image prompt.",
            vram_gb=0.1, note="The plus face adapter for SD 1.5 (ViT-H patch features of a face crop); 98 MB. Apache-2.0.",
        ),
        one_model(
            "controlnet_union_zimage", "zimage_controlnet",
            "alibaba-pai/Z-Image-Turbo-Fun-Controlnet-Union/Z-Image-Turbo-Fun-Controlnet-Union.safetensors",
            "zimage-controlnet-union",
            "Union ControlNet for Z-Image Turbo (canny, depth, pose...): PyraCanny or CPDS, one at a time.",
            vram_gb=3.1,
            note="Control blocks on 6 of the transformer's layers plus 2 refiner blocks, about 1.55 B parameters "
                 "(3.1 GB in bf16); reads canny, HED, depth, pose and MLSD maps; loaded with diffusers' "
                 "from_single_file, always in Z-Image's own dtype (bf16, or fp32 without bf16; never fp16). "
                 "Licence: the repo card says Apache-2.0, not verified against a licence file here.",
            on_space=True,
        ),
        one_model(
            "image_encoder", "image_encoder", "h94/IP-Adapter", "clip-vision-h",
            "CLIP ViT-H/14 image encoder read by both IP-Adapters (ImagePrompt, FaceSwap).",
            vram_gb=1.3, subfolder="models/image_encoder",
            note="OpenCLIP ViT-H/14 vision tower, 632 M parameters, 1.3 GB in fp16. Apache-2.0 (repo).",
            on_space=True,
        ),
        # Face models: ONNX files on the Hub as "owner/repo/file.onnx"; licences in `notes`.
        one_model(
            "face_detector", "onnx", "facefusion/models-3.0.0/scrfd_2.5g.onnx", "scrfd",
            "SCRFD face detector with 5 landmarks (Face swap tab, FaceSwap image prompt).",
            note="InsightFace SCRFD-2.5GF: non-commercial research use only.",
            on_space=True,
        ),
        one_model(
            "face_recogniser", "onnx", "facefusion/models-3.0.0/arcface_w600k_r50.onnx", "arcface",
            "ArcFace identity embedding (112x112) of the source face.",
            note="InsightFace ArcFace w600k R50: non-commercial research use only.",
            on_space=True,
        ),
        one_model(
            "face_swapper", "onnx", "facefusion/models-3.0.0/inswapper_128.onnx", "inswapper",
            "Face swapper (inswapper_128-class: 128x128 target crop + 512 identity).",
            note="InsightFace inswapper_128: non-commercial research use only.",
            on_space=True,
        ),
        one_model(
            "face_restorer", "onnx", "facefusion/models-3.0.0/gfpgan_1.4.onnx", "gfpgan",
            "GFPGAN 1.4 face restoration of the swapped face (512x512, optional).",
            note="TencentARC GFPGAN 1.4: the code is Apache-2.0, but the weights were trained on FFHQ, whose "
                 "licence is non-commercial: treat the model as non-commercial.",
            on_space=True,
        ),
        # Enhance's regions named in words (studio.image.edit.regions): boxes, then masks.
        CatalogEntry(
            name="object_detector",
            kind="zero_shot_detector",
            default="IDEA-Research/grounding-dino-tiny",
            description="Grounding DINO: boxes of anything named in words (Enhance's regions: hand, eyes, hair...).",
            twins={"IDEA-Research/grounding-dino-tiny": "grounding-dino",
                   "IDEA-Research/grounding-dino-base": "grounding-dino"},
            vram_gb={"IDEA-Research/grounding-dino-tiny": 0.8, "IDEA-Research/grounding-dino-base": 1.2},
            space=("IDEA-Research/grounding-dino-tiny",),
            notes={
                "IDEA-Research/grounding-dino-tiny": (
                    "Grounding DINO with a Swin-T backbone and a BERT-base text encoder, about 170 M parameters "
                    "(0.7 GB in fp32); reads English phrases. Apache-2.0."
                ),
                "IDEA-Research/grounding-dino-base": "The Swin-B version: slower, finds more. Apache-2.0.",
            },
        ),
        CatalogEntry(
            name="segmenter",
            kind="segmenter",
            default="facebook/sam-vit-base",
            description="Segment Anything (SAM): the mask of the thing inside each box Grounding DINO found.",
            twins={"facebook/sam-vit-base": "sam", "facebook/sam-vit-large": "sam"},
            vram_gb={"facebook/sam-vit-base": 0.5, "facebook/sam-vit-large": 1.4},
            space=("facebook/sam-vit-base",),
            notes={
                "facebook/sam-vit-base": "SAM ViT-B, about 94 M parameters (0.4 GB in fp32), the size Fooocus's "
                                         "Enhance uses by default (vit_b). Apache-2.0.",
                "facebook/sam-vit-large": "SAM ViT-L: finer masks, about three times the size. Apache-2.0.",
            },
        ),
        # A picture shown to a class is checked first (studio.safety).
        one_model(
            "safety_checker", "safety_checker", "CompVis/stable-diffusion-safety-checker", "safety-checker",
            "Stable Diffusion's safety checker: blacks out pictures that may be NSFW when a class can see them.",
            vram_gb=0.6,
            note="CLIP ViT-L/14 image embeddings scored against 17 concept embeddings (and 3 special-care ones); "
                 "its published fp16 weights are 608 MB. CreativeML OpenRAIL-M.",
            on_space=True,
        ),
    )
}


# owner/name as the Hub spells it: no "..", no leading slash, so a typed id is never a path.
HUB_ID = re.compile(r"^(?!.*\.\.)[A-Za-z0-9][\w.-]{0,95}(/[A-Za-z0-9][\w.-]{0,95})?$")


def check_overrides(settings: Settings) -> None:
    """Every ``--model NAME=ID`` names a catalog entry: a typo is refused at start, with the known
    names, wherever settings are put to use (the app, a StudioContext, the memory planner)."""
    for name in settings.models:
        if name not in CATALOG:
            raise SettingsError(f"--model {name}=...: {name!r} is not a model name; known names: {', '.join(CATALOG)}.")


def entry(name: str) -> CatalogEntry:
    try:
        return CATALOG[name]
    except KeyError:
        raise KeyError(f"no catalog entry {name!r}; known: {', '.join(CATALOG)}") from None


def default_id(settings: Settings, name: str) -> str:
    return settings.models.get(name, entry(name).default)


def choices(settings: Settings, name: str) -> list[str]:
    """Ids offered in dropdowns: the configured default first, then the catalog's. On a ZeroGPU
    Space (or its twin), only the ids the Space preloads (``CatalogEntry.space``)."""
    item = entry(name)
    if zero_gpu.forks(settings):
        return list(item.space)
    first = default_id(settings, name)
    return [first] + [c for c in item.choices if c != first]


def spec_for(
    settings: Settings, name: str, model_id: str | None = None, allow_local: bool = False
) -> ModelSpec:
    """The spec to load for capability ``name``: the Hub id in ``standard``, its twin in ``tiny``.

    Ids typed by a user must look like Hub ids; local folders come only from the server's
    own settings (``--model``) or from callers that checked the folder (``allow_local``).
    """
    item = entry(name)
    model_id = (model_id or default_id(settings, name)).strip()
    if not model_id:
        raise BadInput("Pick a model first: the model id is empty.")
    if zero_gpu.forks(settings) and not allow_local and model_id not in item.space:
        # A Space runs only what it preloaded: anything else would download inside a visitor's GPU call.
        offered = ", ".join(item.space) or "none"
        raise BadInput(f"{model_id[:80]!r} is not offered on this Space (offered: {offered}).")
    trusted = allow_local or model_id in choices(settings, name)
    if not trusted and not HUB_ID.match(model_id):
        raise BadInput(
            f"{model_id[:80]!r} is not a Hugging Face model id. Use the owner/name form, "
            "e.g. Qwen/Qwen2.5-0.5B-Instruct."
        )
    subfolder = item.subfolder if model_id in item.twins else None
    if settings.is_tiny and not model_id.startswith("tiny:"):
        twin = item.twins.get(model_id)
        if twin is None:
            raise ModelUnavailable(
                f"The tiny profile has no offline twin of {model_id!r}. "
                f"Pick one of: {', '.join(item.choices)}, or run with --profile standard."
            )
        model_id, subfolder = f"tiny:{twin}", None
    variant = revision = None
    if not model_id.startswith("tiny:"):
        # fp16 files where the repo has them, unless the studio runs in fp32 (full-precision files).
        variant = item.variants.get(model_id) if settings.dtype != "fp32" else None
        revision = item.revisions.get(model_id)
    return ModelSpec(
        kind=item.kind, source=model_id, subfolder=subfolder, dtype=settings.dtype, label=name,
        variant=variant, revision=revision,
    )
