"""LoRAs on a shared checkpoint: loaded per request, never fused into the shared weights.

The UNet / transformer of a checkpoint is shared by every user of it. Loading a LoRA puts
adapter layers into that module, so the active set of LoRAs is state of the shared model.
``AdapterGate`` makes that safe: requests that want the same set run side by side; a
request that wants another set waits until the model is idle, then swaps the set (unload
all, load the new ones). Unloading removes the adapter layers entirely, so a request
without LoRAs always runs on the untouched base weights.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from studio.errors import BadInput

if TYPE_CHECKING:
    from diffusers import DiffusionPipeline


@dataclass(frozen=True)
class LoraFile:
    """One LoRA of a request. ``version`` is the file's modification time (ns) and size, read
    once when the request is built: training writes a LoRA over the same file, so the version
    is part of the gate key and the adapter name, and a new version is loaded anew."""

    path: Path
    weight: float
    label: str
    version: tuple[int, int] | None = None  # (st_mtime_ns, st_size); None: read from the file now

    def __post_init__(self) -> None:
        if self.version is None:
            try:
                stat = Path(self.path).stat()
                version = (stat.st_mtime_ns, stat.st_size)
            except OSError:  # gone: loading it says so
                version = (0, 0)
            object.__setattr__(self, "version", version)

    @property
    def adapter_name(self) -> str:
        # A name peft accepts, unique per file and version (two files may share a stem).
        digest = hashlib.sha1(f"{self.path}|{self.version[0]}|{self.version[1]}".encode()).hexdigest()[:10]
        return f"studio_{digest}"


def switch_to(pipe: DiffusionPipeline, loras: list[LoraFile]) -> None:
    """Unload every adapter, then load ``loras`` with their weights (weight 0 ones are skipped)."""
    pipe.unload_lora_weights()
    active = [lora for lora in loras if lora.weight != 0]
    for lora in active:
        try:
            pipe.load_lora_weights(str(lora.path.parent), weight_name=lora.path.name, adapter_name=lora.adapter_name)
        except (ValueError, KeyError, RuntimeError, OSError) as exc:
            pipe.unload_lora_weights()
            raise BadInput(
                f"The LoRA {lora.label} does not fit this checkpoint ({str(exc).splitlines()[0][:160]}). "
                "Is it made for this model family?"
            ) from None
    if active:
        pipe.set_adapters([lora.adapter_name for lora in active], [lora.weight for lora in active])


def active_key(loras: list[LoraFile]) -> tuple:
    """The adapter-gate key of ``loras``: each file with its version, and its weight."""
    return tuple(sorted((str(lora.path), *lora.version, lora.weight) for lora in loras if lora.weight != 0))
