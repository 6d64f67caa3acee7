"""What the image tests share: a tiny-profile context with its own model folders, and pixels."""

from __future__ import annotations

import shutil

import numpy as np
import pytest


@pytest.fixture(scope="session")
def image_ctx(tiny_cache_dir, tmp_path_factory):
    """A tiny-profile context with its own checkpoints and loras folders."""
    from studio.context import StudioContext
    from studio.models import tiny
    from studio.settings import load_settings

    models = tmp_path_factory.mktemp("models")
    (models / "checkpoints").mkdir()
    (models / "loras" / "people").mkdir(parents=True)
    settings = load_settings(
        ["--profile", "tiny", "--cache-dir", str(tiny_cache_dir), "--outputs", str(models / "outputs"),
         "--checkpoints-dir", str(models / "checkpoints"), "--loras-dir", str(models / "loras")], env={},
    )
    # A LoRA for the tiny SDXL, in the nested folder a user might keep it in.
    lora_twin = tiny.ensure_built("sdxl-lightning-lora", settings.tiny_dir)
    shutil.copy(next(lora_twin.glob("*.safetensors")), models / "loras" / "people" / "style.safetensors")
    return StudioContext(settings)


def pixels(result) -> np.ndarray:
    return np.asarray(result.image.convert("RGB"), dtype=np.int16)


