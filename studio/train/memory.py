"""A training job's memory, counted in the shared cache's budget while it runs.

The training process runs beside the model cache on the same GPU. Before a job starts, its
estimated memory is held in the cache's budget: idle models are evicted to make room. When they
cannot be (models in use, or a budget too small), the job stays queued and says why, and the
runner tries again when the next job ends or a model is let go.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from studio import jobs
from studio.errors import OutOfMemory, StudioError
from studio.train.estimate import ADAM_BYTES

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from studio.context import StudioContext

# An image LoRA's estimate counts the UNet's parameters only: weights in fp16, the LoRA's Adam
# state, and this much again for activations, the VAE and the text encoders.
IMAGE_LORA_OVERHEAD = 1.5


class JobMemory:
    def __init__(self, studio: StudioContext):
        self.studio = studio
        self._lock = threading.Lock()
        self._held: dict[str, int] = {}

    def needs(self, folder: Path) -> int:
        """The job's estimated training memory, in bytes (0 when it cannot be estimated)."""
        from studio.train import service

        job = jobs.read_json(folder / "job.json")
        config = job.get("config") or {}
        task = config.get("task", "causal_lm")
        try:
            found = service.estimate(self.studio.settings, task, job.get("base_model", ""), config)
        except (StudioError, OSError, ValueError):
            return 0
        if "memory_gb" in found:
            return int(found["memory_gb"] * 1024**3)
        weights = (found.get("total_parameters", 0) - found.get("trainable_parameters", 0)) * 2
        return int((weights + found.get("trainable_parameters", 0) * ADAM_BYTES) * IMAGE_LORA_OVERHEAD)

    def take(self, folder: Path) -> str | None:
        """Hold the job's memory; None, or why it must wait."""
        size = self.needs(folder)
        try:
            self.studio.cache.hold(size, f"training job {folder.name}")
        except OutOfMemory as exc:
            return f"Waiting for GPU memory: {exc}"
        with self._lock:
            self._held[folder.name] = size
        return None

    def give_back(self, folder: Path) -> None:
        with self._lock:
            size = self._held.pop(folder.name, 0)
        if size:
            self.studio.cache.let_go(size)
