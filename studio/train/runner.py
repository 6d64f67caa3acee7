"""The queue: one training process at a time, started from job folders, watched by a thread.

Everything the runner knows is on disk, so a new runner (after an app restart) picks up
where the old one stopped: queued jobs stay queued, a job whose process is gone is marked
interrupted and can be resumed from its last checkpoint.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from studio.errors import BadInput
from studio import jobs

ROOT = Path(__file__).resolve().parents[2]
POLL_SECONDS = 0.25
CANCEL_GRACE_SECONDS = 10  # after this, a worker that did not stop is killed


class Runner:
    def __init__(self, outputs: Path, env: dict[str, str] | None = None, memory: Any = None):
        """``memory``: a studio.train.memory.JobMemory, which holds a job's memory in the shared
        cache's budget while it runs (None: jobs start without asking)."""
        self.outputs = Path(outputs)
        self._env = env
        self._memory = memory
        self._lock = threading.RLock()
        self._process: subprocess.Popen | None = None
        self._current: Path | None = None
        self._adopted_pid: int | None = None  # a worker left running by a previous app
        self._cancel_sent: float | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.recover()

    # --- start-up -----------------------------------------------------------------------

    def recover(self) -> None:
        """Jobs marked running whose process is gone become interrupted (resumable)."""
        for folder in jobs.all_jobs(self.outputs):
            state = jobs.read_state(folder)
            if state.get("state") != "running":
                continue
            pid = state.get("pid")
            if pid and _is_worker(pid, folder) and self._current is None:
                self._current, self._adopted_pid = folder, pid
            else:
                jobs.set_state(folder, "interrupted", **jobs.message("interrupted"))

    def start(self) -> "Runner":
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="train-runner", daemon=True)
                self._thread.start()
        return self

    def close(self) -> None:
        self._stopping.set()

    # --- what the tab and the API call -----------------------------------------------------

    def submit(self, folder: Path) -> None:
        jobs.set_state(folder, "queued", queued_at=time.time(), pid=None, **jobs.message("queued"))
        self.start()

    def cancel(self, folder: Path) -> dict[str, Any]:
        state = jobs.read_state(folder).get("state")
        if state == "queued":
            return jobs.set_state(folder, "cancelled", **jobs.message("cancelled_before"))
        if state != "running":
            raise BadInput(f"This job is {state}: only a queued or running job can be cancelled.")
        (folder / "cancel").touch()
        with self._lock:
            if self._current == folder:
                self._cancel_sent = time.monotonic()
                pid = self._process.pid if self._process else self._adopted_pid
                if pid:
                    _signal(pid, signal.SIGTERM)
        return jobs.read_state(folder)

    def resume(self, folder: Path) -> None:
        state = jobs.read_state(folder).get("state")
        if state not in jobs.RESUMABLE:
            raise BadInput(f"This job is {state}: only an interrupted, cancelled or failed job can be resumed.")
        if not jobs.checkpoints(folder):
            raise BadInput("This job has no checkpoint yet, so it starts again from step 0 — start a new job instead.")
        (folder / "cancel").unlink(missing_ok=True)
        kept = jobs.checkpoints(folder)[-1]
        jobs.trim_log(folder, int(kept.name.split("-")[1]))  # the page shows where it restarts
        job = jobs.read_json(folder / "job.json")
        jobs.write_json(folder / "job.json", {**job, "resume": True})
        self.submit(folder)

    def queue(self) -> list[str]:
        """Job ids waiting, in the order they will run (running one first)."""
        waiting = [(jobs.read_state(f).get("queued_at", 0), f.name) for f in jobs.all_jobs(self.outputs)
                   if jobs.read_state(f).get("state") == "queued"]
        with self._lock:
            running = [self._current.name] if self._current else []
        return running + [name for _, name in sorted(waiting)]

    # --- the watcher ----------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stopping.is_set():
            try:
                self.tick()
            except Exception:  # a bad folder must not stop the queue
                import logging

                logging.getLogger("studio").exception("training runner")
            time.sleep(POLL_SECONDS)

    def tick(self) -> None:
        with self._lock:
            if self._current is not None:
                if self._alive():
                    self._enforce_cancel()
                    return
                self._finish()
            nxt = self._next_queued()
            if nxt is not None and self._room_for(nxt):
                self._launch(nxt)

    def _room_for(self, folder: Path) -> bool:
        """The job's memory is held in the cache's budget, or it waits, saying why."""
        if self._memory is None:
            return True
        reason = self._memory.take(folder)
        if reason is None:
            return True
        if jobs.read_state(folder).get("message") != reason:
            jobs.set_state(folder, "queued", message=reason)
        return False

    def _alive(self) -> bool:
        if self._process is not None:
            return self._process.poll() is None
        return bool(self._adopted_pid and _is_worker(self._adopted_pid, self._current))

    def _enforce_cancel(self) -> None:
        if self._cancel_sent and time.monotonic() - self._cancel_sent > CANCEL_GRACE_SECONDS:
            pid = self._process.pid if self._process else self._adopted_pid
            _signal(pid, signal.SIGKILL)

    def _finish(self) -> None:
        """The process ended: if it could not say how, say it for it."""
        folder, code = self._current, (self._process.returncode if self._process else None)
        state = jobs.read_state(folder).get("state")
        if state == "running":  # "queued" here means it was resumed already: leave it queued
            if self._cancel_sent or (folder / "cancel").exists():
                jobs.set_state(folder, "cancelled", **jobs.message("cancelled"))
            else:
                why = " (killed: perhaps out of memory)" if code in (-9, 137) else ""
                jobs.set_state(folder, "failed", **jobs.message("crashed", code=code, why=why))
        if self._memory is not None:
            self._memory.give_back(folder)
        self._process, self._current, self._adopted_pid, self._cancel_sent = None, None, None, None

    def _next_queued(self) -> Path | None:
        waiting = [(jobs.read_state(f).get("queued_at", 0), f) for f in jobs.all_jobs(self.outputs)
                   if jobs.read_state(f).get("state") == "queued"]
        return min(waiting, key=lambda pair: pair[0])[1] if waiting else None

    def _launch(self, folder: Path) -> None:
        (folder / "cancel").unlink(missing_ok=True)
        env = dict(self._env if self._env is not None else os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        log = open(folder / "worker.log", "ab")
        jobs.set_state(folder, "running", pid=None, **jobs.message("starting"))
        self._process = subprocess.Popen(
            [sys.executable, "-m", "studio.train.worker", str(folder.resolve())],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        log.close()
        jobs.set_state(folder, "running", pid=self._process.pid)
        self._current = folder


def _is_worker(pid: int, folder: Path) -> bool:
    try:
        process = psutil.Process(pid)
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE and str(folder.name) in " ".join(process.cmdline())
    except (psutil.Error, OSError):
        return False


def _signal(pid: int | None, sig: int) -> None:
    if pid:
        try:
            os.kill(pid, sig)
        except OSError:
            pass
