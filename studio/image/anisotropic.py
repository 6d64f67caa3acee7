"""An edge-preserving blur for latents: a joint bilateral filter.

Each value becomes a weighted mean of its 13×13 neighbourhood, the weight of a neighbour being
a Gaussian of its distance in space (σ 3) times a Gaussian of how different a guide image is
there (σ 3, L1 distance over the channels). Smooth regions are averaged; across an edge of the
guide the weights fall to almost nothing, so the edge stays. These are the figures Fooocus's
sharpness uses; the code is the studio's own.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

WINDOW = 13
SIGMA_SPACE = 3.0
SIGMA_COLOR = 3.0


def _space_weights(torch: ModuleType, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    offsets = torch.arange(WINDOW, device=device, dtype=dtype) - WINDOW // 2
    line = torch.exp(-(offsets**2) / (2 * SIGMA_SPACE**2))
    return (line[:, None] * line[None, :]).reshape(-1)  # (WINDOW²,), normalised by the final division


def _neighbourhoods(torch: ModuleType, x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, H, W, WINDOW²): every pixel's window, the borders mirrored."""
    pad = WINDOW // 2
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad), mode="reflect")
    return padded.unfold(2, WINDOW, 1).unfold(3, WINDOW, 1).flatten(-2)


def joint_bilateral(x: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
    """``x`` (B, C, H, W) smoothed where ``guide`` (same size) is smooth, kept where it has edges."""
    import torch

    values = _neighbourhoods(torch, x)
    guide_windows = _neighbourhoods(torch, guide)
    distance = (guide_windows - guide.unsqueeze(-1)).abs().sum(1, keepdim=True)  # L1 over the channels
    weights = torch.exp(-0.5 * (distance / SIGMA_COLOR) ** 2) * _space_weights(torch, x.device, x.dtype)
    return (values * weights).sum(-1) / weights.sum(-1)


def adaptive_filter(x: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
    """``joint_bilateral`` with the guide standardised per image (mean 0, spread 1), so the colour
    σ means the same at every noise level."""
    import torch

    spread, mean = torch.std_mean(guide, dim=(1, 2, 3), keepdim=True)
    return joint_bilateral(x, (guide - mean) / (spread + 1e-5))
