"""Cheap live previews: latents to a small RGB picture without a VAE decode.

Families with a published linear fit from latent channels to RGB use it; others (16-channel
flow latents) show the latent's three main directions (a per-step PCA), whose colours are
arbitrary but whose shapes are the picture forming.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    import torch
    from PIL import Image

PREVIEW_SIDE = 256


def latents_to_rgb(latents: torch.Tensor, factors: Sequence[Sequence[float]] | None = None,
                   bias: Sequence[float] = (0.0, 0.0, 0.0)) -> Image.Image:
    """(C, H, W) latents -> a PIL image, at most PREVIEW_SIDE pixels on its long side."""
    import numpy as np
    import torch
    from PIL import Image

    lat = latents.detach().float().cpu()
    if lat.dim() == 5:  # (C, F, H, W) video-style latents: the first frame
        lat = lat[:, 0]
    channels, height, width = lat.shape
    flat = lat.reshape(channels, -1)
    if factors is not None and len(factors) == channels:
        rgb = torch.tensor(factors).T @ flat + torch.tensor(bias)[:, None]
        rgb = ((rgb + 1) / 2).clamp(0, 1)
    else:
        centred = flat - flat.mean(dim=1, keepdim=True)
        _, _, v = torch.pca_lowrank(centred.T, q=min(3, channels), center=False)
        rgb = (centred.T @ v).T
        if rgb.shape[0] < 3:
            rgb = rgb.repeat(3, 1)[:3]
        low, high = rgb.quantile(0.02, dim=1, keepdim=True), rgb.quantile(0.98, dim=1, keepdim=True)
        rgb = ((rgb - low) / (high - low + 1e-6)).clamp(0, 1)
    pixels = (rgb.reshape(3, height, width).permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    image = Image.fromarray(pixels)
    scale = PREVIEW_SIDE / max(height, width)
    return image.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BILINEAR)
