"""Device, dtype and memory figures. Imports torch only when called."""

from __future__ import annotations

from typing import TYPE_CHECKING

import psutil

from studio import zero_gpu
from studio.settings import Settings, SettingsError

if TYPE_CHECKING:
    import torch


def resolve_device(requested: str) -> str:
    import torch

    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise SettingsError(
            "--device cuda was asked for, but this torch sees no CUDA GPU (a CPU-only build of "
            "torch, or no driver). Install the CUDA build of torch, or use --device auto."
        )
    if requested == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise SettingsError("--device mps was asked for, but this machine has no Apple GPU. Use --device auto.")
    return requested


def resolve_dtype(requested: str, device: str) -> torch.dtype:
    """auto: bf16 where the GPU supports it, fp16 on other GPUs, fp32 on CPU."""
    import torch

    table = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}
    if requested != "auto":
        return table[requested]
    if device == "cuda":
        if zero_gpu.active():  # outside a call there is no CUDA to ask; the slice's capability is known
            return torch.bfloat16 if torch.cuda.get_device_capability()[0] >= 8 else torch.float16
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.float32


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


def device_memory(device: str) -> dict[str, int]:
    """Total and free bytes where models live (GPU memory, or RAM on CPU)."""
    if device == "cuda":
        import torch

        if zero_gpu.active():  # the slice each call gets, whole: nothing else runs on it then
            total = zero_gpu.slice_bytes()
            return {"total": total, "free": total}
        free, total = torch.cuda.mem_get_info()
        return {"total": total, "free": free}
    vm = psutil.virtual_memory()
    return {"total": vm.total, "free": vm.available}


def ram_figures() -> dict[str, int]:
    vm = psutil.virtual_memory()
    return {"total": vm.total, "free": vm.available, "process": psutil.Process().memory_info().rss}


def budget_bytes(settings: Settings, device: str) -> int:
    mode, value = settings.vram_budget_spec()
    if mode == "bytes":
        return int(value)
    return int(device_memory(device)["free"] * value)


def describe(device: str) -> str:
    if device == "cuda":
        import torch

        props = torch.cuda.get_device_properties(0)
        return f"cuda ({props.name}, {props.total_memory / 1024**3:.0f} GB)"
    return device
