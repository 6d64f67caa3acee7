"""Garbage collection that does not stall a busy server.

Loaded models are millions of long-lived Python objects. Each full collection walks them all,
holding the GIL for 0.1-0.6 s on a shared 2-core machine (benchmarks/class_load.py measured
it), and every thread stops meanwhile, the event loop that answers students' calls included.
So once the app is built, and each time the model cache loads or drops a model, the survivors
are frozen (``gc.freeze``): later collections skip them. Freezing first unfreezes and collects,
so a dropped model's reference cycles are freed, not frozen. What the server keeps between
requests (each session's copy of the app's config: thousands of objects per student) is frozen
every FREEZE_SECONDS after a collection of the young generations, so full collections stay short.
"""

from __future__ import annotations

import gc
import threading
import time

FREEZE_SECONDS = 10.0
_lock = threading.Lock()
_freezer: threading.Thread | None = None
_dropped = False


def dropped() -> None:
    """A model was let go: the next settle collects everything, so its reference cycles go too."""
    global _dropped
    _dropped = True


def settle(full: bool = False) -> None:
    """Freeze what is alive now. After a drop (or when ``full``) everything is unfrozen and
    collected first: a pause, at a moment that is slow anyway (start-up, a model load or drop)."""
    global _dropped
    with _lock:
        if full or _dropped:
            _dropped = False
            gc.unfreeze()
            gc.collect()
        else:
            gc.collect(1)  # the young generations only: their garbage is not frozen
        gc.freeze()


def keep_freezing() -> None:
    """Start (once) the thread that freezes what survives, every FREEZE_SECONDS."""
    global _freezer
    with _lock:
        if _freezer is not None:
            return
        _freezer = threading.Thread(target=_freeze_forever, name="studio-gc-freeze", daemon=True)
        _freezer.start()


def _freeze_forever() -> None:
    while True:
        time.sleep(FREEZE_SECONDS)
        settle()
