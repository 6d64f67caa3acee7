"""What the edit tests share: a small picture with real structure, and quick diffusion settings."""

from __future__ import annotations

import numpy as np
import pytest

from studio.image.edit import work

QUICK = work.Diffusion(prompt="a harbour at dusk", seed=11, steps=4)


def picture(width: int = 96, height: int = 72, seed: int = 0):
    """Smooth colour blobs (like a photo, not white noise), so blends and seams are visible."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    small = (rng.random((6, 8, 3)) * 255).astype(np.uint8)
    return Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC)


def array(image) -> np.ndarray:
    return np.asarray(image.convert("RGB"))


@pytest.fixture(scope="session")
def edit_ctx(tiny_cache_dir, tmp_path_factory):
    """A tiny-profile context with its own outputs, checkpoints and upscalers folders."""
    from studio.context import StudioContext
    from studio.settings import load_settings

    root = tmp_path_factory.mktemp("edit")
    settings = load_settings(
        ["--profile", "tiny", "--cache-dir", str(tiny_cache_dir), "--outputs", str(root / "outputs"),
         "--checkpoints-dir", str(root / "checkpoints"), "--upscalers-dir", str(root / "upscalers")], env={},
    )
    return StudioContext(settings)
