"""A GPU run as the server sees it: it waits its fair turn, then relays what the GPU function
yields, and stops when nobody wants it any more.

The GPU function (``body``) takes plain values and yields plain values (``studio.progress``
events, text updates): on a ZeroGPU Space it runs in a forked worker and everything crossing is
pickled. The relay runs in its own thread, in the caller's context (ZeroGPU reads the visitor's
request from it, for their quota), so a page that goes away and comes back (a reload) finds the
run still going and can follow it.

Who stops a run:
- its Cancel (``flag``, readable from the worker): the work stops at its next step and the run
  ends with ``Stopped``;
- nobody: the caller that started it went away (a closed page, a cancelled API call) and nobody
  came back for it within ``grace`` seconds. Then it is cancelled the same way.
The GPU turn (``studio.gpu_queue``) is held until the work has stopped, not until Gradio lets go.
"""

from __future__ import annotations

import contextvars
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from studio.gpu_queue import FairQueue, Ticket
from studio.progress import Cancelled, CancelFlag, Delivered, Finished, Progress, Stopped

POLL_SECONDS = 0.5  # how often a caller waiting for events checks that its page is still there
_END = object()


@dataclass
class Waiting:
    """The run waits for its turn on the GPU; ``place`` 1 is next."""

    place: int


@dataclass
class Started:
    """The run has the GPU."""


class Run:
    def __init__(self, gpu_queue: FairQueue, owner: str, what: str, body: Callable[[CancelFlag], Any],
                 flag: CancelFlag | None = None, exempt: bool = False, capped: bool = True,
                 grace: float = 0.0, name: str = "studio-run", who: str = ""):
        """Enter the queue (``TooManyRuns`` is raised here, at once) and start relaying
        ``body(flag)``: an iterator of events, or a plain value for a light call."""
        self.owner, self.what, self.grace = owner, what, grace
        self.flag = flag or CancelFlag()
        try:
            self.ticket: Ticket = gpu_queue.enter(owner, what, exempt or not capped, cancel=self.flag.is_set, who=who)
        except BaseException:
            self.flag.end()  # refused at the door: there is nothing for a Cancel to stop
            raise
        self.ticket.stop = self.cancel  # the teacher may cancel it too
        self._body = body
        self.outcome: str | None = None  # "done", "cancelled" or "failed"
        self.error: BaseException | None = None
        self.value: Any = None
        self.place: int | None = None
        self.last_progress: Progress | None = None
        self.last_update: Any = None  # the latest event that is none of the above (a reply as it grows)
        self.delivered: list[Any] = []
        self.started = time.monotonic()
        self._events: queue.Queue = queue.Queue()
        self._watched_at = time.monotonic()
        self._followers = 0
        context = contextvars.copy_context()
        self._thread = threading.Thread(target=context.run, args=(self._relay,), name=name, daemon=True)
        self._thread.start()

    # -- the relay thread --

    def _relay(self) -> None:
        try:
            for place in self.ticket.wait():
                self.place = place
                self._events.put(Waiting(place))
            self.place = None
            self._events.put(Started())
            produced = self._body(self.flag)
            if isinstance(produced, Iterator):
                for event in produced:
                    self._record(event)
                    self._events.put(event)
            else:
                self._record(Finished(produced))
                self._events.put(Finished(produced))
            if self.outcome is None:
                self.outcome = "cancelled" if self.flag.is_set() and self.value is None else "done"
        except Cancelled:
            self.outcome = "cancelled"
            self._events.put(Stopped())
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for the run
            self.outcome, self.error = "failed", exc
            self._events.put(exc)
        finally:
            self.ticket.images = sum(1 for item in self.delivered if getattr(item, "image", None) is not None)
            self.ticket.leave()
            self.flag.end()
            self._events.put(_END)

    def _record(self, event: Any) -> None:
        if isinstance(event, Progress):
            self.last_progress = event
        elif isinstance(event, Delivered):
            self.delivered.append(event.item)
        elif isinstance(event, Finished):
            self.value = event.value
        elif isinstance(event, Stopped):
            self.outcome = "cancelled"
        else:
            self.last_update = event

    # -- callers --

    @property
    def ended(self) -> bool:
        return self.outcome is not None

    def cancel(self) -> None:
        self.flag.set()

    def events(self, alive: Callable[[], bool] | None = None) -> Iterator[Any]:
        """What the run does, as it happens, for the caller that started it: ``Waiting``,
        ``Started``, then the body's events; an error is raised here. When ``alive()`` turns
        false (the caller's page or API call is gone), or this iterator is closed before the end,
        the caller has gone away: see ``grace``."""
        finished = False
        try:
            while True:
                try:
                    event = self._events.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    if alive is not None and not alive():
                        return
                    continue
                if event is _END:
                    finished = True
                    return
                if isinstance(event, BaseException):
                    finished = True
                    raise event
                yield event
        finally:
            if not finished:
                self._gone()

    def result(self, alive: Callable[[], bool] | None = None) -> Any:
        """Wait for the end and return the body's value (an API call); ``Cancelled`` when the run
        was cancelled."""
        for event in self.events(alive):
            if isinstance(event, Stopped):
                raise Cancelled()
        if self.outcome == "cancelled":
            raise Cancelled()
        return self.value

    def follow(self) -> None:
        """A page came back for this run (a reload): it is wanted, and goes on."""
        self._watched_at = time.monotonic()
        self._followers += 1

    def _gone(self) -> None:
        """The caller went away. With no grace the run stops now; else it stops unless someone
        follows it within ``grace`` seconds."""
        if self.ended:
            return
        left_at = time.monotonic()
        if self.grace <= 0:
            self.cancel()
            return

        def stop_if_unwatched() -> None:
            if not self.ended and self._watched_at < left_at:
                self.cancel()

        timer = threading.Timer(self.grace, stop_if_unwatched)
        timer.daemon = True
        timer.start()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)


class LatestRuns:
    """Each owner's latest run of one kind, and the form it was asked with, so a page that comes
    back (a reload) can put the form back and follow the run. In this server's memory; per owner
    (a browser, or a logged-in user), never shared. An ended run is forgotten after a while."""

    KEEP_SECONDS = 600

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_owner: dict[str, tuple[Run, dict]] = {}

    def start(self, owner: str, run: Run, form: dict) -> None:
        with self._lock:
            now = time.monotonic()
            for key in [k for k, (r, _) in self._by_owner.items() if r.ended and now - r.started > self.KEEP_SECONDS]:
                del self._by_owner[key]
            self._by_owner[owner] = (run, form)

    def current(self, owner: str) -> tuple[Run, dict] | None:
        with self._lock:
            return self._by_owner.get(owner)
