"""Per-session block configs, computed when first read instead of all at once.

Gradio builds, for each new session, the config of every block of the app (about 700 here) on
the event loop's thread, when the session's first call joins the queue: 30 ms on a quiet
machine, 0.3 s on a class's busy one, for each student, while every upload and queue join
waits (benchmarks/class_load.py's stall log). A session reads those configs only to rebuild a
page from a deep link, and Gradio refreshes one whenever a block changes for the session. So
they are made on first read, from the same call, and a session's start costs nothing.

Gradio's own ``SessionState.__init__`` still runs (whatever it sets up in a later version is
kept); only its per-block call is deferred. Where Gradio lacks the two names this relies on,
nothing is changed.
"""

from __future__ import annotations

import inspect
import logging
import threading
from typing import Any, Callable, Iterable

log = logging.getLogger(__name__)

_deferring = threading.local()
DEFERRED = object()  # what the per-block call gives while a session starts


class LazyBlockConfigs(dict):
    """A dict of block id -> config whose ``pending`` ids are computed by ``compute`` on first read."""

    def __init__(self, compute: Callable[[int], dict], ready: dict, pending: Iterable[int]):
        super().__init__(ready)
        self._compute = compute
        self._pending = set(pending)
        self._lock = threading.Lock()

    def _take(self, key: int) -> dict:
        with self._lock:
            if key in self._pending:
                dict.__setitem__(self, key, self._compute(key))
                self._pending.discard(key)
        return dict.__getitem__(self, key)

    def _all(self) -> None:
        for key in list(self._pending):
            self._take(key)

    def __missing__(self, key: int) -> dict:
        if key in self._pending:
            return self._take(key)
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or key in self._pending

    def __setitem__(self, key: int, value: dict) -> None:
        with self._lock:
            self._pending.discard(key)
            dict.__setitem__(self, key, value)

    def get(self, key: int, default: Any = None) -> Any:
        return self[key] if key in self else default

    def __len__(self) -> int:
        return dict.__len__(self) + len(self._pending)

    def __iter__(self):
        self._all()
        return dict.__iter__(self)

    def keys(self):
        self._all()
        return dict.keys(self)

    def values(self):
        self._all()
        return dict.values(self)

    def items(self):
        self._all()
        return dict.items(self)


def install() -> bool:
    """Defer the per-block configs of every new session (once per process). False where this
    Gradio does not have what it relies on."""
    from gradio import blocks as gradio_blocks
    from gradio import state_holder

    blocks_config_class = getattr(gradio_blocks, "BlocksConfig", None)
    session_class = getattr(state_holder, "SessionState", None)
    if blocks_config_class is None or session_class is None or not hasattr(blocks_config_class, "config_for_block"):
        log.debug("Gradio without BlocksConfig.config_for_block / SessionState: configs stay eager")
        return False
    if getattr(session_class.__init__, "deferring_configs", False):
        return True
    raw = inspect.getattr_static(blocks_config_class, "config_for_block")
    static = isinstance(raw, staticmethod)
    real_config_for_block = raw.__func__ if static else raw
    real_init = session_class.__init__

    def config_for_block(*args: Any, **kwargs: Any) -> Any:
        if getattr(_deferring, "on", False):
            return DEFERRED
        return real_config_for_block(*args, **kwargs)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _deferring.on = True
        try:
            real_init(self, *args, **kwargs)
        finally:
            _deferring.on = False
        configs = getattr(self, "config_values", None)
        blocks_config = getattr(self, "blocks_config", None)
        if not isinstance(configs, dict) or blocks_config is None:
            return
        pending = [key for key, value in configs.items() if value is DEFERRED]
        ready = {key: value for key, value in configs.items() if value is not DEFERRED}

        def compute(key: int) -> dict:  # as Gradio's own __init__ calls it
            return blocks_config.config_for_block(key, [], blocks_config.blocks[key])

        self.config_values = LazyBlockConfigs(compute, ready, pending)

    __init__.deferring_configs = True  # type: ignore[attr-defined]
    blocks_config_class.config_for_block = staticmethod(config_for_block) if static else config_for_block
    session_class.__init__ = __init__
    return True
