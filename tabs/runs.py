"""Runs that outlive their page: each browser's latest image run, so a reloaded page can put the
form back as it was and follow the run to its end (its images land in the history either way).
In this server's memory; per owner (a browser, or a logged-in user), never shared."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KEEP_SECONDS = 600  # an ended run is forgotten after this (its images are in the history)


@dataclass
class RunningRun:
    task: Any  # studio.progress.Task
    form: dict[Any, Any]  # component -> value, as the run was asked for
    folder: Path | None
    started: float = field(default_factory=time.monotonic)


class Runs:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_owner: dict[str, RunningRun] = {}

    def start(self, owner: str, task: Any, form: dict[Any, Any], folder: Path | None) -> None:
        with self._lock:
            self._forget_old()
            self._by_owner[owner] = RunningRun(task, form, folder)

    def current(self, owner: str) -> RunningRun | None:
        with self._lock:
            return self._by_owner.get(owner)

    def _forget_old(self) -> None:
        now = time.monotonic()
        for owner in [o for o, run in self._by_owner.items()
                      if run.task.outcome is not None and now - run.started > KEEP_SECONDS]:
            del self._by_owner[owner]
