"""The thread that runs ``model.generate`` for one request, and its lifetime.

A worker never outlives its request by more than one token: the stream that started it
stops it when the reply is finished, stopped or abandoned (a closed tab, a cancelled event),
and at interpreter exit every worker still running is stopped and waited for, because a
thread still inside torch while the process tears down aborts it ("terminate called
without an active exception").
"""

from __future__ import annotations

import atexit
import threading
from typing import Any, Callable

THREAD_NAME = "studio-generate"
EXIT_WAIT_SECONDS = 10.0  # per worker; a stopped one ends after its current token

_running: set["GenerationWorker"] = set()
_running_lock = threading.Lock()


class GenerationWorker:
    """Runs ``work(cancel)`` in a daemon thread; ``stop()`` asks it to end at the next token.

    ``work`` must check ``cancel`` every step (a StoppingCriteria does). Its return value is
    ``result``; an exception it raises is kept in ``error`` for the caller's thread."""

    def __init__(self, work: Callable[[threading.Event], Any], cancel: threading.Event | None = None):
        self.cancel = cancel or threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self._work = work
        self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)

    def start(self) -> "GenerationWorker":
        with _running_lock:
            _running.add(self)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.result = self._work(self.cancel)
        except BaseException as exc:  # re-raised by the caller, in its own thread
            self.error = exc
        finally:
            with _running_lock:
                _running.discard(self)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True once it has ended."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def stop(self) -> None:
        """End at the next token; returns at once (a forward pass may take a while)."""
        self.cancel.set()


def running_workers() -> list[GenerationWorker]:
    with _running_lock:
        return list(_running)


@atexit.register
def _stop_all_at_exit() -> None:
    workers = running_workers()
    for worker in workers:
        worker.stop()
    for worker in workers:
        worker.join(EXIT_WAIT_SECONDS)
