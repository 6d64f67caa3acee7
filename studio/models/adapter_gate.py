"""One adapter set at a time on a shared model, for as many requests as want that set.

A cached model is shared by every user. Loading adapters (image LoRAs, IP-Adapters, a text
LoRA trained in the Train tab) changes its modules, so the active set is state of the shared
model. Requests that want the active set run side by side while nobody waits; a request that
wants another set waits until the model is idle, then ``switch`` makes its set active.

First come, first served once someone waits: a request that arrives while others wait queues
behind them, even when it wants the active set, so a steady stream of requests for one set
(a class drawing plain images) cannot keep a request for another set waiting forever. Requests
at the front of the queue that want the same set go in together.

A holder that hands its work to another thread which enters the gate again (the text tab's
beam search does: its worker pins the model itself) would wait behind the waiter, who waits
for the holder: a deadlock. ``patience`` breaks it: a request for the active set that has
waited that long while no holder came or went is let in ahead of the waiters.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from contextlib import contextmanager
from typing import Callable, Iterator

log = logging.getLogger(__name__)

SWITCHING = ("<switching>",)  # the active set while (or after a failed) switch: no clean state claimed
NESTED_PATIENCE = 15.0  # seconds; see the module docstring


class AdapterGate:
    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._active: tuple = ()
        self._users = 0
        self._queue: deque[object] = deque()  # one ticket per waiting request, first come first
        self._moved = time.monotonic()  # when a holder last came in or went out

    @property
    def active(self) -> tuple:
        return self._active

    @property
    def users(self) -> int:
        """Requests inside now."""
        with self._condition:
            return self._users

    @property
    def waiting(self) -> int:
        """Requests queued now."""
        with self._condition:
            return len(self._queue)

    def _open_for(self, wanted: tuple) -> bool:
        return wanted == self._active or not self._users

    @contextmanager
    def holding(self, wanted: tuple, switch: Callable[[], None],
                patience: float | None = NESTED_PATIENCE) -> Iterator[None]:
        """Run the block with the adapter set ``wanted`` active. ``switch`` makes it active and
        runs only while nobody else uses the model. ``patience`` None: the caller never enters
        the gate twice for one request, so it always waits its turn."""
        with self._condition:
            if self._queue or not self._open_for(wanted):
                self._wait_turn(wanted, patience)
            if wanted != self._active:
                self._active = SWITCHING  # a failed switch leaves no claim of a clean state
                try:
                    switch()
                finally:
                    self._condition.notify_all()  # failed: the next in line switches instead
                self._active = wanted
            self._users += 1
            self._moved = time.monotonic()
        try:
            yield
        finally:
            with self._condition:
                self._users -= 1
                self._moved = time.monotonic()
                self._condition.notify_all()

    def _wait_turn(self, wanted: tuple, patience: float | None) -> None:
        """Queue, and return (the condition held) once this request may go in."""
        ticket = object()
        self._queue.append(ticket)
        self._condition.notify_all()  # for whoever watches ``waiting``
        queued = time.monotonic()
        try:
            while not (self._queue[0] is ticket and self._open_for(wanted)):
                timeout = None
                if patience is not None and wanted == self._active and self._users:
                    still = time.monotonic() - max(queued, self._moved)
                    if still >= patience:
                        log.warning("adapter gate: a request for the active set waited %.0f s with no holder "
                                    "coming or going; let in ahead of %d waiting", still, len(self._queue) - 1)
                        return
                    timeout = patience - still
                self._condition.wait(timeout)
        finally:
            # Going in, or leaving on an error: either way the next in line looks again (once
            # this thread lets go of the condition, after its switch).
            self._queue.remove(ticket)
            self._condition.notify_all()
