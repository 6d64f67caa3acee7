"""Tiny twins: small random-weight models of the real architectures, built locally.

A twin is saved in the same Hugging Face format as the real model, so it is loaded by
the very same ``from_pretrained`` code path. Each capability registers its builders
below as "module:function" (imported only when a twin is first needed); a builder
takes an empty folder and writes the model files into it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Callable

from filelock import FileLock  # cross-platform (fcntl is POSIX-only)

from studio.references import resolve

TINY_PREFIX = "tiny:"
# Bump when a builder changes, so stale twins are rebuilt.
BUILD_VERSION = "2"
MARKER = ".studio-tiny"

BUILDERS: dict[str, str] = {
    "qwen2-chat": "studio.text.tiny_twins:build_qwen2_chat",
    "bloom": "studio.text.tiny_twins:build_bloom",
    "gpt2": "studio.text.tiny_twins:build_gpt2",
    "modernbert-chat": "studio.text.diffusion.tiny_twins:build_modernbert_chat",
    "bert-chinese-mlm": "studio.text.diffusion.tiny_twins:build_bert_chinese_mlm",
    "bert-wordpiece": "studio.tokens.tiny_twins:build_bert_wordpiece",
    "clip": "studio.tokens.tiny_twins:build_clip",
    "vq": "studio.tokens.tiny_twins:build_vq",
    "sdxl-lcm-lora": "studio.image.tiny_twins:build_sdxl_lcm_lora",
    "sdxl-lightning-lora": "studio.image.tiny_twins:build_sdxl_lightning_lora",
    "blip": "studio.prompts.tiny_twins:build_blip",
    "scrfd": "studio.faces.tiny_twins:build_scrfd",
    "arcface": "studio.faces.tiny_twins:build_arcface",
    "inswapper": "studio.faces.tiny_twins:build_inswapper",
    "gfpgan": "studio.faces.tiny_twins:build_gfpgan",
    "bert-classifier": "studio.train.tiny_twins:build_bert_classifier",
    "sdxl-controlnet-canny": "studio.image.image_prompts.twins:build_controlnet_canny",
    "sdxl-controlnet-cpds": "studio.image.image_prompts.twins:build_controlnet_cpds",
    "clip-vision-h": "studio.image.image_prompts.twins:build_image_encoder",
    "sdxl-ip-adapter": "studio.image.image_prompts.twins:build_ip_adapter",
    "sdxl-ip-adapter-face": "studio.image.image_prompts.twins:build_ip_adapter_face",
    "sd15-controlnet-canny": "studio.image.image_prompts.twins:build_sd15_controlnet_canny",
    "sd15-controlnet-cpds": "studio.image.image_prompts.twins:build_sd15_controlnet_cpds",
    "sd15-ip-adapter": "studio.image.image_prompts.twins:build_sd15_ip_adapter",
    "sd15-ip-adapter-face": "studio.image.image_prompts.twins:build_sd15_ip_adapter_face",
    "zimage-controlnet-union": "studio.image.image_prompts.twins:build_zimage_controlnet",
    "esrgan-x4": "studio.image.edit.tiny_twins:build_esrgan_x4",
    "esrgan-x2": "studio.image.edit.tiny_twins:build_esrgan_x2",
    "grounding-dino": "studio.image.edit.segment_twins:build_grounding_dino",
    "sam": "studio.image.edit.segment_twins:build_sam",
    "safety-checker": "studio.safety:build_safety_checker_twin",
}

# The image families name their own twins (named after the family): read from them when asked,
# by reference, as the builders above are, so this module imports nothing above it.
FAMILY_TWINS = "studio.image.families:twin_builders"

# Re-entrant: a twin may be built from another (a LoRA twin needs its base model's twin).
_lock = threading.RLock()


def builders() -> dict[str, str]:
    """Every twin builder by twin name, the image families' included."""
    return {**BUILDERS, **resolve(FAMILY_TWINS)()}


def builder(name: str) -> Callable[[Path], None]:
    known = BUILDERS if name in BUILDERS else builders()
    if name not in known:
        raise KeyError(f"no tiny twin named {name!r}; known: {', '.join(known)}")
    return resolve(known[name])


def twin_name(source: str) -> str:
    return source[len(TINY_PREFIX):] if source.startswith(TINY_PREFIX) else source


def ensure_built(name: str, root: Path) -> Path:
    """Folder of twin ``name`` under ``root``; built once, safely across threads and processes."""
    folder = Path(root) / name
    marker = folder / MARKER
    if marker.is_file() and marker.read_text() == BUILD_VERSION:
        return folder
    build = builder(name)
    root.mkdir(parents=True, exist_ok=True)
    with _lock, FileLock(root / f".{name}.lock"):  # another process (a test, the app) may build too
        if marker.is_file() and marker.read_text() == BUILD_VERSION:
            return folder
        staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
        try:
            build(staging)
            (staging / MARKER).write_text(BUILD_VERSION)
            if folder.exists():
                shutil.rmtree(folder)
            os.replace(staging, folder)  # atomic: readers never see half a twin
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return folder
