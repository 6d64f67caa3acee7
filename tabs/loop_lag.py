"""How late the server's event loop runs: a timer that should fire every INTERVAL seconds, and by
how much it is late. The loop answers every HTTP request (queue joins, uploads, the page's own
calls); when something holds it, students' calls time out. Read by /server_health and
benchmarks/class_load.py."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
import traceback
from collections import deque

from studio.errors import BadInput

# Innermost functions of a thread that waits (holds no GIL): left out of a stall's report.
IDLE = frozenset({"wait", "get", "select", "sleep", "accept", "poll", "_wait_for_tstate_lock"})

log = logging.getLogger("studio")

INTERVAL = 0.1
KEPT_SECONDS = 600  # readings kept for report(seconds)


class LoopLag:
    def __init__(self) -> None:
        self.worst = 0.0
        self.started = time.monotonic()
        self._recent: deque[tuple[float, float]] = deque()
        self._task: asyncio.Task | None = None
        self._last_tick = time.monotonic()

    async def start(self) -> None:
        """Run on the server's loop (a Gradio startup event)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._watch())
            stall = float(os.environ.get("STUDIO_LOG_LOOP_STALLS", "0") or 0)
            if stall > 0:  # diagnosis: log what the loop's thread runs when it stalls this long
                threading.Thread(target=self._log_stalls, args=(threading.get_ident(), stall), daemon=True).start()

    def _log_stalls(self, loop_thread: int, stall: float) -> None:
        """Log the loop thread's stack, and the busy threads', each time it is ``stall`` s late."""
        logged_for = 0.0
        while True:
            time.sleep(stall / 4)
            late = time.monotonic() - self._last_tick
            if late > stall and self._last_tick != logged_for:
                logged_for = self._last_tick
                frames = sys._current_frames()
                frame = frames.get(loop_thread)
                stack = "".join(traceback.format_stack(frame)[-12:]) if frame else "(no frame)"
                # What the other busy threads run: one of them held the GIL while the loop waited.
                names = {thread.ident: thread.name for thread in threading.enumerate()}
                others = "".join(
                    f"--- {names.get(ident, ident)}:\n" + "".join(traceback.format_stack(other)[-4:])
                    for ident, other in frames.items()
                    if ident not in (loop_thread, threading.get_ident()) and other.f_code.co_name not in IDLE
                )
                log.warning("event loop stalled %.2f s so far, in:\n%s\nother threads:\n%s", late, stack, others)

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._last_tick = time.monotonic()
            before = loop.time()
            await asyncio.sleep(INTERVAL)
            lag = max(0.0, loop.time() - before - INTERVAL)
            now = time.monotonic()
            self.worst = max(self.worst, lag)
            self._recent.append((now, lag))
            while self._recent and self._recent[0][0] < now - KEPT_SECONDS:
                self._recent.popleft()

    def report(self, seconds: float = 60) -> dict[str, float | bool]:
        """The worst and mean lag over the last ``seconds`` (up to KEPT_SECONDS), and the worst
        since start."""
        if not 0 < seconds <= KEPT_SECONDS:  # NaN too
            raise BadInput(f"The window must be between 0 and {KEPT_SECONDS} seconds, not {seconds:g}.",
                           key="errors.health_window", most=KEPT_SECONDS, value=f"{seconds:g}")
        since = time.monotonic() - float(seconds)
        recent = [lag for at, lag in self._recent if at >= since]
        return {
            "watching": self._task is not None,
            "window_s": round(float(seconds), 1),
            "loop_lag_worst_s": round(max(recent, default=0.0), 3),
            "loop_lag_mean_s": round(sum(recent) / len(recent), 4) if recent else 0.0,
            "loop_lag_worst_since_start_s": round(self.worst, 3),
            "seconds_watched": round(time.monotonic() - self.started, 1),
        }
