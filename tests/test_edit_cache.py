"""The edit tools use the Image tab's checkpoint from the shared cache: after a generation,
upscale-refine, vary, inpaint and outpaint load nothing more of it (one UNet load in all)."""

from __future__ import annotations

import numpy as np

from studio.image.edit import inpaint, outpaint, upscale, vary
from studio.image.generate import generate_images
from studio.image.request import ImageRequest
from tests.edit_helpers import QUICK, edit_ctx  # noqa: F401  (fixture)


def test_the_base_unet_loads_once_across_every_edit_after_a_generation(edit_ctx):
    from studio.context import StudioContext

    ctx = StudioContext(edit_ctx.settings)  # a fresh cache: its counters start at zero
    generated = generate_images(ctx, ImageRequest(prompt="a lighthouse", width=256, height=256, steps=2, seed=1), None)[0]
    image = generated.image.resize((96, 96))
    mask = np.zeros((96, 96), dtype=bool)
    mask[30:60, 30:60] = True
    upscale.upscale(ctx, upscale.UpscaleRequest(image, "Upscale (2×)", diffusion=QUICK))
    vary.vary(ctx, vary.VaryRequest(image, "subtle", diffusion=QUICK))
    inpaint.inpaint(ctx, inpaint.InpaintRequest(image, mask, diffusion=QUICK))
    outpaint.outpaint(ctx, outpaint.OutpaintRequest(image, right=32, diffusion=QUICK))

    pipelines = [m for m in ctx.cache.stats()["models"] if m["kind"] == "image_pipeline"]
    assert len(pipelines) == 1  # one checkpoint entry: its UNet, VAE and encoders, once
    assert pipelines[0]["hits"] >= 4  # every edit was a hit on it
    loads = [spec for event, spec in ctx.cache.events if event == "load"]
    assert loads.count("image_pipeline:tiny:sdxl") == 1
    assert loads.count("upscaler:tiny:esrgan-x4") == 1
    assert ctx.cache.misses == 2  # the checkpoint and the upscaler, nothing else
