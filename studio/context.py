"""The StudioContext handed to every tab: settings plus the one shared ModelCache."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import psutil

from studio import devices, space_config
from studio.class_rules import ClassRules
from studio.gpu_queue import FairQueue
from studio.models import catalog, loaders
from studio.wall import Wall
from studio.models.cache import ModelCache
from studio.models.specs import ModelSpec
from studio.ml_imports import import_ml_libraries
from studio.settings import Settings

if TYPE_CHECKING:
    import torch

# Share of available RAM that models parked off the GPU may take.
OFFLOAD_RAM_FRACTION = 0.5


@dataclass
class StudioContext:
    settings: Settings
    cache: ModelCache = field(init=False)
    class_rules: ClassRules = field(init=False)  # what a student may ask for; the teacher changes it
    # With --ray: the cluster whose replicas run the @replicated studio functions (studio.cluster).
    cluster: Any = field(default=None, init=False)

    def __post_init__(self) -> None:
        catalog.check_overrides(self.settings)  # a --model typo, refused before anything starts
        self.cache = ModelCache(loader=self._load, placement=self._placement)
        self.class_rules = ClassRules(self.settings)

    def _placement(self) -> dict[str, Any]:
        import_ml_libraries()  # once, before any loader thread touches transformers/diffusers
        device = devices.resolve_device(self.settings.device)
        on_gpu = device != "cpu"
        return {
            "device": device,
            "budget_bytes": devices.budget_bytes(self.settings, device),
            # On a GPU, idle models are parked in RAM; on a CPU, RAM is the device itself.
            "offload_device": "cpu" if on_gpu else None,
            "offload_budget_bytes": int(psutil.virtual_memory().available * OFFLOAD_RAM_FRACTION) if on_gpu else 0,
        }

    @cached_property
    def device(self) -> str:
        return self.cache.device

    def torch_dtype(self, spec: ModelSpec) -> torch.dtype:
        return devices.resolve_dtype(spec.dtype, self.device)

    def _load(self, spec: ModelSpec) -> Any:
        return loaders.load(spec, self.torch_dtype(spec), self.settings.tiny_dir)

    def spec(self, name: str, model_id: str | None = None) -> ModelSpec:
        """The catalog spec for capability ``name`` (its twin in the tiny profile)."""
        return catalog.spec_for(self.settings, name, model_id)

    @cached_property
    def wall(self) -> Wall:
        """The class wall (studio.wall), kept in the outputs folder."""
        return Wall(self.settings.outputs)

    @cached_property
    def gpu_queue(self) -> FairQueue:
        """The GPU's turns, taken by every GPU run of every tab and the API (studio.gpu_queue)."""
        return FairQueue(self.gpu_slots, lambda: self.class_rules.limits.runs)

    def gpu_slots(self) -> int:
        """GPU events that may run at once: --concurrency per GPU, on each replica with a cluster."""
        replicas = self.cluster.replica_count if self.cluster is not None and self.cluster.in_use else 1
        return self.settings.concurrency * max(1, replicas)

    def describe_device(self) -> str:
        return devices.describe(self.device)

    def load_at_start(self) -> list[str]:
        """Load every model a ZeroGPU Space offers (studio.space_config) before anyone connects:
        each GPU call runs in a fork of this process, and what a call loads is gone when it ends,
        its GPU window (the visitor's quota) spent downloading. Loaded here, each call finds them
        in place. Returns what was loaded."""
        loaded = []
        for name, model_id in space_config.loaded_at_start():
            spec = self.spec(name, model_id)
            self.cache.get(spec)
            loaded.append(spec.source)
        return loaded
