"""Garbage collection that does not stall a busy server.

Loaded models are millions of long-lived Python objects. Each full collection walks them all,
holding the GIL for 0.1-0.6 s on a shared 2-core machine (benchmarks/class_load.py measured
it), and every thread stops meanwhile, the event loop that answers students' calls included.
So the server freezes what survives (``gc.freeze``: later collections skip it) once the app is
built, and then every FREEZE_SECONDS, after collecting the young generations: what it keeps
between requests (loaded models, each session's copy of the app's config) is then never walked
again. When the model cache lets a model go, the next freeze first unfreezes and collects
everything, so the model's reference cycles are freed, not kept; freeing models by hand (or
after a CUDA out-of-memory) collects at once.
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
    """A model was let go: the next freeze collects everything first, so its cycles go too."""
    global _dropped
    _dropped = True


def settle(full: bool = False) -> None:
    """Freeze what is alive now, after collecting the young generations; after a drop (or when
    ``full``) everything is unfrozen and collected first."""
    global _dropped
    with _lock:
        if full or _dropped:
            _dropped = False
            gc.unfreeze()
            gc.collect()
        else:
            gc.collect(1)  # the young generations only: quick, and their garbage is not frozen
        gc.freeze()


def collect_all() -> None:
    """A full collection now that frozen objects are part of (a model let go, its memory wanted
    back at once); what was frozen and survives is frozen again."""
    global _dropped
    with _lock:
        frozen = gc.get_freeze_count() > 0
        if frozen:
            gc.unfreeze()
        gc.collect()
        if frozen:
            gc.freeze()
        _dropped = False


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
