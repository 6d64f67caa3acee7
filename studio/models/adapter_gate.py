"""One adapter set at a time on a shared model, for as many requests as want that set.

A cached model is shared by every user. Loading adapters (image LoRAs, IP-Adapters, a text
LoRA trained in the Train tab) changes its modules, so the active set is state of the shared
model. Requests that want the active set run side by side while nobody waits; a request that
wants another set waits until the model is idle, then ``switch`` makes its set active.

First come, first served once someone waits: a request that arrives while others wait queues
behind them, even when it wants the active set, so a steady stream of requests for one set
(a class drawing plain images) cannot keep a request for another set waiting forever. Requests
at the front of the queue that want the same set go in together.

A holder that hands its work to another thread (the text tab's beam search) gives that thread
a hold of its own with ``hand_on``, taken at once: queuing it behind a waiter who waits for the
holder would be a deadlock, and there is no turn to wait for, since the set cannot change while
the holder is inside.
"""

from __future__ import annotations

import threading
from collections import deque
from contextlib import contextmanager
from typing import Callable, Iterator

SWITCHING = ("<switching>",)  # the active set while (or after a failed) switch: no clean state claimed


class AdapterGate:
    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._active: tuple = ()
        self._users = 0
        self._queue: deque[object] = deque()  # one ticket per waiting request, first come first

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
    def holding(self, wanted: tuple, switch: Callable[[], None]) -> Iterator[None]:
        """Run the block with the adapter set ``wanted`` active. ``switch`` makes it active and
        runs only while nobody else uses the model."""
        with self._condition:
            if self._queue or not self._open_for(wanted):
                self._wait_turn(wanted)
            if wanted != self._active:
                self._active = SWITCHING  # a failed switch leaves no claim of a clean state
                try:
                    switch()
                finally:
                    self._condition.notify_all()  # failed: the next in line switches instead
                self._active = wanted
            self._users += 1
        try:
            yield
        finally:
            self._leave()

    def hand_on(self) -> Callable[[], None]:
        """For a holder, inside ``holding``: one more hold of the active set, taken at once, for
        work it hands to another thread. Returns the release, to be called once when that work
        ends (it may outlive the holder's own block)."""
        with self._condition:
            if not self._users:
                raise RuntimeError("only a request inside the gate can hand a hold on")
            self._users += 1
        released = threading.Event()

        def release() -> None:
            if not released.is_set():
                released.set()
                self._leave()

        return release

    def _leave(self) -> None:
        with self._condition:
            self._users -= 1
            self._condition.notify_all()

    def _wait_turn(self, wanted: tuple) -> None:
        """Queue, and return (the condition held) once this request may go in."""
        ticket = object()
        self._queue.append(ticket)
        self._condition.notify_all()  # for whoever watches ``waiting``
        try:
            while not (self._queue[0] is ticket and self._open_for(wanted)):
                self._condition.wait()
        finally:
            # Going in, or leaving on an error: either way the next in line looks again (once
            # this thread lets go of the condition, after its switch).
            self._queue.remove(ticket)
            self._condition.notify_all()
