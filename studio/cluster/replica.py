"""One Ray Serve replica of the studio: its own StudioContext (settings and ModelCache) on its
own GPU, running the ``@replicated`` studio functions the front sends it by name.

A call streams its events back as it goes (see ``events``); model multiplexing is keyed by the
call's model key, so Ray Serve routes the next call for a checkpoint to a replica that has it.
The ModelCache, with its budget and memory plans, still decides what stays loaded here.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import ray
from ray import serve

from studio import cache_report
from studio.cluster import board as notice_board
from studio.cluster import wire
from studio import tools
from studio.progress import CancelFlag, Delivered, Finished, Progress, Task
from studio.replicated import REGISTRY

if TYPE_CHECKING:
    from studio.replicated import Replicated
    from studio.settings import Settings

log = logging.getLogger(__name__)

# The modules whose functions are marked @replicated (a replica imports them to find them by name).
# Besides the declared tools (studio.tools), which are found by themselves.
REPLICATED_MODULES = (
    "studio.image.generate", "studio.image.image_prompts", "studio.faces.pipeline", "studio.prompts.describe",
    "studio.text.generate", "studio.text.diffusion.stream", "studio.text.diffusion.fill_mask",
)
# Keys Ray Serve routes by that a replica reports as held. Past this it forgets the oldest (the
# routing hint only: the ModelCache decides what stays loaded, by its memory budget).
KEYS_PER_REPLICA = 4
CANCEL_POLL_SECONDS = 0.1
REPORT_SECONDS = 2.0


def load_registry() -> dict[str, Any]:
    for module in REPLICATED_MODULES:
        importlib.import_module(module)
    tools.refresh()  # each tool's module marks its function as it is declared
    return REGISTRY


class StudioReplica:
    def __init__(self, settings: Settings) -> None:
        if settings.is_tiny:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # as app.py: the tiny profile never needs the Hub
        from studio.context import StudioContext

        self.studio = StudioContext(settings)  # no cluster of its own: everything runs here
        self.registry = load_registry()
        context = serve.get_replica_context()
        self.replica = context.replica_id.unique_id
        self.actor = ray.get_runtime_context().get_actor_name()
        self.node = ray.util.get_node_ip_address()
        self.started = time.time()
        self.board = notice_board.board()
        self.running: dict[str, CancelFlag] = {}
        self.served = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._report_soon = threading.Event()
        threading.Thread(target=self._keep_in_touch, name="studio-replica-board", daemon=True).start()

    # --- routing -----------------------------------------------------------------------------

    @serve.multiplexed(max_num_models_per_replica=KEYS_PER_REPLICA)
    async def holding(self, key: str) -> str:
        """Ray Serve's record that this replica holds ``key``'s model; loading is the cache's job,
        at the call's first use of it."""
        return key

    # --- calls ---------------------------------------------------------------------------------

    async def run(self, name: str, call: str, payload: dict[str, Any]):
        """Stream one call's events (see ``events``). A call the front gave up on (its page is
        gone, or it timed out) is cancelled here too."""
        key = serve.get_multiplexed_model_id()
        if key:
            await self.holding(key)
        flag = CancelFlag()
        with self._lock:
            self.running[call] = flag
        self._report_soon.set()  # the Models tab sees the call running at once, not at the next report
        events = self.events(name, payload, flag)
        try:
            yield ("started", self.replica)
            while True:
                event = await asyncio.to_thread(next, events, None)
                if event is None:
                    return
                yield event
        except asyncio.CancelledError:
            flag.set()
            raise
        finally:
            with self._lock:
                self.running.pop(call, None)
                self.served += 1
            self._report_soon.set()  # by the board thread: never on the replica's event loop

    def events(self, name: str, payload: dict[str, Any], flag: CancelFlag) -> Iterator[tuple]:
        """("progress", step, total, label, preview), ("delivered", item), ("update", update) for
        a streamed call, then ("finished", value) or ("failed", error)."""
        entry = self.registry.get(name)
        with tempfile.TemporaryDirectory(prefix="studio-call-") as uploads:
            try:
                if entry is None:
                    raise LookupError(f"this replica has no function {name!r}: is its code older than the front's?")
                arguments = wire.unpack(payload, Path(uploads))
                if entry.streams:
                    arguments[entry.cancel] = flag
                    for update in entry.fn(self.studio, **arguments):
                        yield ("update", wire.pack(update))
                    yield ("finished", None)
                elif entry.task:
                    yield from self._task_events(entry, arguments, flag)
                else:
                    yield ("finished", wire.pack(entry.fn(self.studio, **arguments)))
            except BaseException as exc:  # the front raises it, with its own sentence
                if not isinstance(exc, Exception) or type(exc).__module__.startswith("studio"):
                    log.info("call %s ended: %s", name, exc)
                else:
                    log.exception("call %s failed", name)
                yield ("failed", wire.portable(exc))

    def _task_events(self, entry: Replicated, arguments: dict[str, Any], flag: CancelFlag) -> Iterator[tuple]:
        task = Task(lambda task: entry.fn(self.studio, **{**arguments, entry.task: task}), f"studio-{entry.name}", flag)
        delivered: list[Any] = []
        for event in task.events():
            if isinstance(event, Progress):
                preview = wire.pack(event.preview) if event.preview is not None else None
                yield ("progress", event.step, event.total, event.label, preview)
            elif isinstance(event, Delivered):
                delivered.append(event.item)
                yield ("delivered", wire.pack(event.item))
            elif isinstance(event, Finished):
                yield ("finished", wire.finished(event.value, delivered))

    # --- the notice board --------------------------------------------------------------------

    def report(self) -> dict[str, Any]:
        status = cache_report.status(self.studio)  # what this replica's Models tab would show
        with self._lock:
            running, served = len(self.running), self.served
        return {
            "replica": self.replica, "actor": self.actor, "node": self.node, "pid": os.getpid(),
            "device": self.studio.describe_device(), "started": self.started, "running": running, "served": served,
            "hits": status["hits"], "misses": status["misses"], "models": status["models"],
        }

    def _report(self) -> None:
        try:
            self.board.report.remote(self.replica, self.report())
        except Exception:  # noqa: BLE001 - the board is a window, never a reason to fail a call
            log.debug("could not report to the board", exc_info=True)

    def _keep_in_touch(self) -> None:
        """Read Cancel for this replica's calls; report every few seconds."""
        last_report = 0.0
        while not self._stop.wait(CANCEL_POLL_SECONDS):
            try:
                with self._lock:
                    calls = list(self.running)
                if calls:
                    for call in ray.get(self.board.cancelled.remote(calls), timeout=5):
                        with self._lock:
                            flag = self.running.get(call)
                        if flag is not None:
                            flag.set()
                if self._report_soon.is_set() or time.monotonic() - last_report >= REPORT_SECONDS:
                    self._report_soon.clear()
                    last_report = time.monotonic()
                    self._report()
            except Exception:  # noqa: BLE001 - a board that restarts is found again
                log.debug("board unreachable", exc_info=True)
                time.sleep(1)
                try:
                    self.board = notice_board.board()
                except Exception:  # noqa: BLE001
                    pass

    def __del__(self) -> None:  # Ray Serve calls it when the replica stops
        stop = getattr(self, "_stop", None)  # absent when __init__ failed
        if stop is not None:
            stop.set()
