"""What the Models tab shows: cache contents and memory figures, as plain data."""

from __future__ import annotations

import sys
from typing import Any

from studio import devices, zero_gpu
from studio.context import StudioContext

GB = 1024**3


def _gb(value: int | None) -> float | None:
    return None if value is None else round(value / GB, 3)


def status(ctx: StudioContext) -> dict[str, Any]:
    stats = ctx.cache.stats()
    device = stats["device"]
    memory: dict[str, Any] = {"ram": {k: _gb(v) for k, v in devices.ram_figures().items()}}
    if device == "cuda" and zero_gpu.active():  # a slice lent per call: its size, nothing allocated between calls
        memory["gpu"] = {"total": _gb(devices.device_memory(device)["total"]), "lent_per_call": True}
    elif device == "cuda" and "torch" in sys.modules:
        import torch

        free, total = torch.cuda.mem_get_info()
        memory["gpu"] = {
            "total": _gb(total),
            "free": _gb(free),
            "allocated": _gb(torch.cuda.memory_allocated()),
            "reserved": _gb(torch.cuda.memory_reserved()),
        }
    return {
        "profile": ctx.settings.profile,
        "device": device,
        "budget_gb": _gb(stats["budget_bytes"]),
        "used_gb": _gb(stats["device_bytes"]),
        "offloaded_gb": _gb(stats["offloaded_bytes"]),
        "reserved_gb": _gb(stats.get("reserved_bytes", 0)),  # held by offloaded runs in progress
        "hits": stats["hits"],
        "misses": stats["misses"],
        "memory_gb": memory,
        "memory_bars": memory_bars(stats, memory),
        "models": [
            {
                "id": model_id(m),
                "name": m["name"],
                "kind": m["kind"],
                # What part of a checkpoint this is (unet, vae, text_encoder...), else its kind.
                "component": m["key"][3] or m["kind"],
                "model": m["model"],
                "device": m["device"],
                "state": m["state"],
                # How its last request ran, e.g. "model offload: about 1.3× slower (peak ~5.5 of 6.0 GB)".
                "plan": m.get("plan", ""),
                "plan_details": m.get("plan_details"),
                "size_mb": round(m["size_bytes"] / 1024**2, 2),
                "hits": m["hits"],
                "load_seconds": m["load_seconds"],
                "idle_seconds": m["idle_seconds"],
                "in_use": m["in_use"],
                "parts_mb": {name: round(size / 1024**2, 2) for name, size in m.get("parts", {}).items()},
            }
            for m in stats["models"]
        ],
    }


def memory_bars(stats: dict[str, Any], memory: dict[str, Any]) -> list[dict[str, Any]]:
    """Used / limit (GB) for each place memory is counted, in the order the tab shows them:
    the cache's models against its budget, the whole GPU (when there is one), models parked
    in RAM against their share of it (GPU machines), and the computer's RAM. ``limit_gb`` is
    None where there is no limit."""
    bars = [{
        "name": "models", "device": stats["device"],
        "used_gb": _gb(stats["device_bytes"]), "limit_gb": _gb(stats["budget_bytes"]),
    }]
    gpu = memory.get("gpu")
    if gpu and "free" in gpu:  # a ZeroGPU slice is lent per call: nothing to measure between calls
        bars.append({"name": "gpu", "device": "cuda", "used_gb": round(gpu["total"] - gpu["free"], 3),
                     "limit_gb": gpu["total"]})
    if stats.get("offload_device"):
        bars.append({"name": "offloaded", "device": stats["offload_device"],
                     "used_gb": _gb(stats["offloaded_bytes"]), "limit_gb": _gb(stats["offload_budget_bytes"])})
    ram = memory["ram"]
    bars.append({"name": "ram", "device": "cpu", "used_gb": round(ram["total"] - ram["free"], 3),
                 "limit_gb": ram["total"], "process_gb": ram["process"]})
    return bars


def model_id(model: dict[str, Any]) -> str:
    """A stable id for one cache entry: source plus dtype (the same id may load twice)."""
    kind, source, revision, subfolder, dtype, variant = model["key"]
    parts = [source + (f"/{subfolder}" if subfolder else "")]
    if revision:
        parts.append(f"@{revision}")
    return "".join(parts) + f" [{kind}, {dtype}{', ' + variant if variant else ''}]"


def free(ctx: StudioContext, model: str) -> dict[str, Any]:
    """Free one model by id (or ``all``). Models in use stay; the answer says what happened."""
    model = (model or "").strip()
    if model.lower() in ("", "all"):
        dropped = ctx.cache.free_all()
        return {"freed": dropped, "kept_in_use": sum(1 for m in ctx.cache.stats()["models"] if m["in_use"])}
    matches = [m for m in ctx.cache.stats()["models"] if model_id(m) == model or m["model"] == model]
    if not matches:
        from studio.errors import BadInput, shown

        raise BadInput(f"No loaded model is called {shown(model)}. Refresh the list and pick one.",
                       key="errors.model_not_loaded", model=shown(model))
    freed = sum(ctx.cache.free(tuple(m["key"])) for m in matches)
    return {"freed": freed, "kept_in_use": len(matches) - freed}
