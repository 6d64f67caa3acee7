"""Sampler names a Fooocus / A1111 user knows, mapped to diffusers schedulers.

Each request builds its own scheduler from the checkpoint's scheduler config: schedulers
keep per-run state (timesteps, step index), so two users must never share one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    from diffusers import SchedulerMixin

# name -> (diffusers class, config overrides)
SCHEDULERS: dict[str, tuple[str, dict[str, Any]]] = {
    "Euler": ("EulerDiscreteScheduler", {}),
    "Euler a": ("EulerAncestralDiscreteScheduler", {}),
    "DPM++ 2M": ("DPMSolverMultistepScheduler", {}),
    "DPM++ 2M Karras": ("DPMSolverMultistepScheduler", {"use_karras_sigmas": True}),
    "DPM++ 2M SDE Karras": (
        "DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++", "use_karras_sigmas": True},
    ),
    "UniPC": ("UniPCMultistepScheduler", {}),
    "DDIM": ("DDIMScheduler", {}),
    # Distilled few-step models want their timesteps spaced from the end ("trailing").
    "LCM": ("LCMScheduler", {"timestep_spacing": "trailing"}),
    "Euler (trailing)": ("EulerDiscreteScheduler", {"timestep_spacing": "trailing"}),
    # Flow-matching models (Z-Image): the checkpoint's own scheduler.
    "Flow Euler": ("FlowMatchEulerDiscreteScheduler", {}),
}

UNET_SCHEDULERS = tuple(name for name in SCHEDULERS if name != "Flow Euler")
FLOW_SCHEDULERS = ("Flow Euler",)  # flow-matching families: the checkpoint's own scheduler


def build(name: str, base_config: Mapping[str, Any]) -> SchedulerMixin:
    import diffusers

    class_name, overrides = SCHEDULERS[name]
    return getattr(diffusers, class_name).from_config(base_config, **overrides)
