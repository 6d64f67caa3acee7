"""One adapter set at a time on a shared model, for as many requests as want that set.

A cached model is shared by every user. Loading adapters (image LoRAs, a text LoRA trained in
the Train tab) changes its modules, so the active set is state of the shared model. Requests
that want the same set run side by side; a request that wants another set waits until the
model is idle, then ``switch`` makes its set active.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Callable, Iterator


class AdapterGate:
    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._active: tuple = ()
        self._users = 0

    @property
    def active(self) -> tuple:
        return self._active

    @contextmanager
    def holding(self, wanted: tuple, switch: Callable[[], None]) -> Iterator[None]:
        """Run the block with the adapter set ``wanted`` active. ``switch`` makes it active and
        runs only while nobody else uses the model."""
        with self._condition:
            while wanted != self._active and self._users:
                self._condition.wait()
            if wanted != self._active:
                self._active = ("<switching>",)  # a failed switch leaves no claim of a clean state
                switch()
                self._active = wanted
            self._users += 1
        try:
            yield
        finally:
            with self._condition:
                self._users -= 1
                self._condition.notify_all()
