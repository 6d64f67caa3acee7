"""The GPU's turns, shared fairly: students are served in turn, not first come first served.

Every GPU run (an image, an edit, a reply, a face swap) takes a ``Ticket`` before it starts and
gives it back when its work has stopped, so at most ``slots`` runs use the GPU at once, whatever
Gradio's own queue does with a cancelled or abandoned event. Waiting runs are ordered in rounds:
each owner's first waiting run comes before anyone's second, and an owner with a run on the GPU
already counts that run as one round taken. Within a round, whoever was served longest ago goes
first. So a student with five requests waiting goes behind a student with one.

``per_owner`` caps what one owner may have running or waiting (a teacher's limit); owners marked
``exempt`` (the teacher) are not capped. No Gradio here: the tabs and the API take tickets the
same way, and the teacher's view reads ``snapshot()``.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

from studio.errors import BadInput
from studio.progress import Cancelled

WAIT_POLL_SECONDS = 0.25  # how often a waiting run looks at its own Cancel


class TooManyRuns(BadInput):
    """An owner asked for more runs than the teacher allows at once."""


@dataclass
class Usage:
    """What one owner has used since the server started (the teacher's view)."""

    runs: int = 0
    gpu_seconds: float = 0.0
    images: int = 0
    refused: int = 0


@dataclass(eq=False)
class Ticket:
    owner: str
    what: str  # what the run does, for the teacher's view ("Image: 2 × 1024×1024")
    exempt: bool
    arrived: int  # arrival order
    cancel: Callable[[], bool] | None = None  # a waiting run that is cancelled leaves the queue
    stop: Callable[[], None] | None = None  # the teacher's Cancel of this run
    who: str = ""  # the name the teacher's view shows
    started: float | None = None  # monotonic time it got the GPU
    waited_since: float = field(default_factory=time.monotonic)
    images: int = 0  # pictures it delivered (counted at the end)
    _queue: "FairQueue | None" = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.started is not None

    def wait(self) -> Iterator[int]:
        """Until this run's turn: yields its place (1 = next) whenever it changes, at most every
        ``WAIT_POLL_SECONDS``. Raises ``Cancelled`` (leaving the queue) when its Cancel is set."""
        assert self._queue is not None
        yield from self._queue._wait(self)

    def leave(self) -> None:
        """The run's work has stopped (done, failed or cancelled): its turn goes to the next."""
        if self._queue is not None:
            self._queue._leave(self)


class FairQueue:
    def __init__(self, slots: int | Callable[[], int], per_owner: int | Callable[[], int] = 0):
        """``slots``: runs on the GPU at once; ``per_owner``: runs one owner may have going or
        waiting (0: no cap). Each may be a function that says it now (a cluster's replicas come
        and go; the teacher changes the limit)."""
        self._slots = slots if callable(slots) else (lambda: slots)
        self._per_owner = per_owner if callable(per_owner) else (lambda: per_owner)
        self._lock = threading.Condition()
        self._running: list[Ticket] = []
        self._waiting: list[Ticket] = []
        self._arrivals = itertools.count()
        self._last_served: dict[str, int] = {}  # owner -> serving order of their latest turn
        self._serves = itertools.count(1)
        self.usage: dict[str, Usage] = {}

    # -- taking a turn --

    def enter(self, owner: str, what: str, exempt: bool = False,
              cancel: Callable[[], bool] | None = None, who: str = "") -> Ticket:
        """A ticket in the queue, or ``TooManyRuns`` when the owner already has ``per_owner``
        runs going or waiting."""
        with self._lock:
            mine = sum(1 for t in self._running + self._waiting if t.owner == owner)
            cap = self.per_owner
            if cap and not exempt and mine >= cap:
                self.usage.setdefault(owner, Usage()).refused += 1
                raise TooManyRuns(
                    f"You already have {mine} run(s) going or waiting, the most your teacher allows at once "
                    f"({cap}). Wait for one to finish, or cancel one.", key="errors.class_runs", going=mine, most=cap
                )
            ticket = Ticket(owner, what, exempt, next(self._arrivals), cancel, who=who or owner, _queue=self)
            self._waiting.append(ticket)
            self._admit()
            return ticket

    def _order(self) -> list[Ticket]:
        """The waiting tickets in the order they will be served."""
        running = {}
        for t in self._running:
            running[t.owner] = running.get(t.owner, 0) + 1
        seen: dict[str, int] = {}
        keyed = []
        for t in sorted(self._waiting, key=lambda t: t.arrived):
            index = seen.get(t.owner, 0)
            seen[t.owner] = index + 1
            round_ = running.get(t.owner, 0) + index
            keyed.append(((round_, self._last_served.get(t.owner, 0), t.arrived), t))
        return [t for _, t in sorted(keyed, key=lambda pair: pair[0])]

    @property
    def slots(self) -> int:
        return max(1, int(self._slots()))

    @property
    def per_owner(self) -> int:
        return max(0, int(self._per_owner()))

    def _admit(self) -> None:
        """Give free slots to the first tickets in order (under the lock)."""
        while len(self._running) < self.slots and self._waiting:
            ticket = self._order()[0]
            self._waiting.remove(ticket)
            ticket.started = time.monotonic()
            self._running.append(ticket)
            self._last_served[ticket.owner] = next(self._serves)
            self._lock.notify_all()

    def _wait(self, ticket: Ticket) -> Iterator[int]:
        shown = None
        while True:
            with self._lock:
                self._admit()  # the slots may have grown (a cluster came into use)
                if ticket.running:
                    return
                if ticket.cancel is not None and ticket.cancel():
                    self._waiting.remove(ticket)
                    ticket._queue = None
                    self._lock.notify_all()
                    raise Cancelled("Cancelled while it waited for its turn.", key="errors.cancelled_waiting")
                place = self._order().index(ticket) + 1
                if place == shown:
                    self._lock.wait(WAIT_POLL_SECONDS)
                    continue
            shown = place
            yield place  # outside the lock: the caller may take its time

    def _leave(self, ticket: Ticket) -> None:
        with self._lock:
            if ticket in self._running:
                self._running.remove(ticket)
                used = self.usage.setdefault(ticket.owner, Usage())
                used.runs += 1
                used.gpu_seconds += time.monotonic() - (ticket.started or time.monotonic())
                used.images += ticket.images
            elif ticket in self._waiting:
                self._waiting.remove(ticket)
            ticket._queue = None
            self._admit()
            self._lock.notify_all()

    # -- the teacher's view --

    def stop(self, ticket_id: int) -> bool:
        """Cancel the run holding (or waiting for) turn ``ticket_id``; False when it is gone."""
        with self._lock:
            found = next((t for t in self._running + self._waiting if t.arrived == ticket_id), None)
        if found is None or found.stop is None:
            return False
        found.stop()
        return True

    def snapshot(self) -> dict:
        """Who runs what, who waits where, and each owner's usage, as plain data."""
        now = time.monotonic()
        with self._lock:
            return {
                "slots": self.slots,
                "per_owner": self.per_owner,
                "running": [{"id": t.arrived, "owner": t.owner, "who": t.who, "what": t.what,
                             "seconds": round(now - (t.started or now), 1)} for t in self._running],
                "waiting": [{"id": t.arrived, "owner": t.owner, "who": t.who, "what": t.what, "place": place,
                             "seconds": round(now - t.waited_since, 1)}
                            for place, t in enumerate(self._order(), 1)],
                "usage": {owner: vars(used).copy() for owner, used in self.usage.items()},
            }
