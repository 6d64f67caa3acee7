"""One progress / cancel helper for every long tool (generation, upscaling, editing).

``Task`` runs ``work(task)`` in a worker thread. The work calls ``task.step(...)`` once per
step (which raises ``Cancelled`` once Cancel was pressed, so it stops within one step) and
``task.deliver(item)`` for each finished piece (an image). The caller iterates ``events()``:
progress updates and delivered items as they happen, then the work's return value.

A caller that goes away (a closed or reloaded page) does not stop the work unless asked:
an image being generated still lands in the user's history.
"""

from __future__ import annotations

import atexit
import contextvars
import os
import queue
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator, Protocol

from studio.errors import StudioError

if TYPE_CHECKING:
    from PIL import Image

POLL_SECONDS = 0.05
# Whether the run in this context may show live previews: a screened run (studio.safety) shows
# only pictures that were checked.
previews_shown: contextvars.ContextVar[bool] = contextvars.ContextVar("studio_previews_shown", default=True)
PREVIEW_SECONDS = 0.4  # previews are cheap, but a UI cannot use one per millisecond either


class Cancelled(StudioError):
    """The user pressed Cancel; the work stopped at the next step."""

    def __init__(self, message: str = "Cancelled: stopped at the next step.", key: str | None = "errors.cancelled",
                 labels: dict | None = None, **args: Any):
        super().__init__(message, key, labels, **args)


class CancelFlag:
    """The Cancel (or Stop) button's flag for one run, readable from another process.

    On a ZeroGPU Space the work runs in a forked worker and its arguments are pickled; a plain
    ``threading.Event`` cannot cross (it holds a lock), and a copy would never see the press.
    So ``set()`` also writes a marker file in a shared-memory folder, and ``is_set()`` looks for
    it: a pickled flag is the same flag on both sides. Gradio may deep-copy session state; a
    copy would no longer reach the worker, so copying returns the same object. ``ended``: its
    run is over (however it ended), so a later Cancel has nothing to stop."""

    def __init__(self, path: str | None = None) -> None:
        self._here = threading.Event()
        self.path = path or _new_flag_path()
        self.ended = False

    def set(self) -> None:
        self._here.set()
        try:
            with open(self.path, "w"):
                pass
        except OSError:  # the folder is gone (the server is shutting down): this process still knows
            pass

    def is_set(self) -> bool:
        return self._here.is_set() or os.path.exists(self.path)

    def wait(self, timeout: float | None = None) -> bool:
        """Until set (by this process or another), or ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.is_set():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            self._here.wait(POLL_SECONDS if left is None else min(POLL_SECONDS, left))
        return True

    def end(self) -> None:
        """The run is over: later presses change nothing, and the marker file goes."""
        self.ended = True
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def __reduce__(self) -> tuple:
        return CancelFlag, (self.path,)

    def __deepcopy__(self, memo: dict) -> "CancelFlag":
        return self


def _flags_folder() -> str:
    """This server's folder of flag files: in shared memory where there is one (Linux), made once
    per process and removed at exit. A forked worker inherits the name, not a new folder."""
    global _FLAGS_FOLDER
    with _FLAGS_LOCK:
        if _FLAGS_FOLDER is None or not os.path.isdir(_FLAGS_FOLDER):
            base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
            _FLAGS_FOLDER = tempfile.mkdtemp(prefix="genai-studio-flags-", dir=base)
            atexit.register(_remove_folder, _FLAGS_FOLDER, os.getpid())
        return _FLAGS_FOLDER


def _remove_folder(folder: str, owner_pid: int) -> None:
    if os.getpid() == owner_pid:  # never from a forked worker that happens to run exit handlers
        shutil.rmtree(folder, ignore_errors=True)


def _new_flag_path() -> str:
    return os.path.join(_flags_folder(), uuid.uuid4().hex)


_FLAGS_FOLDER: str | None = None
_FLAGS_LOCK = threading.Lock()


# What a step is doing, by key: English here; the UI words it in the reader's language
# (assets/i18n/progress.json, keys progress.<key>).
# Each tool adds its own when it is declared (studio.tools.declare).
LABELS = {
    "image": "image {index} of {count}",
    "tile": "{label} · tile {index} of {count}",
    "cell": "cell {index} of {count}",  # studio.image.grid: the X/Y/Z grid's cells
    "replica_lost": "one replica was lost; finishing on another",  # studio.cluster.retried
}


@dataclass(frozen=True)
class Label:
    """A progress label: ``LABELS[key]`` with its values (a value may be a Label itself)."""

    key: str
    args: tuple = ()  # (name, value) pairs

    def worded(self, say: Callable[[str], str] | None = None) -> str:
        """In English, or through ``say`` (a key -> text of the reader's language)."""
        template = LABELS[self.key]
        if say is not None:
            said = say(f"progress.{self.key}")
            template = template if said == f"progress.{self.key}" else said
        return template.format(**{name: value.worded(say) if isinstance(value, Label) else value
                                   for name, value in self.args})

    def __str__(self) -> str:
        return self.worded()


def label(key: str, **args: Any) -> Label:
    if key not in LABELS:
        raise KeyError(f"no progress label {key!r}")
    return Label(key, tuple(args.items()))


@dataclass
class Progress:
    step: int
    total: int
    label: Label | str = ""
    preview: Image.Image | None = None  # a small PIL image of the work so far, when there is one

    @property
    def fraction(self) -> float:
        return min(self.step / self.total, 1.0) if self.total else 0.0


@dataclass
class Delivered:
    item: Any


@dataclass
class Finished:
    value: Any


@dataclass
class Stopped:
    """The run was cancelled and stopped at a step: what it delivered before stays delivered."""

    reason: str = "cancelled"


Event = Progress | Delivered | Finished | Stopped


class TaskLike(Protocol):
    """What work reports to: a Task, or a stand-in that passes a part of a larger run on to one
    (an edit's ``Stage``, a grid's ``CellProgress``)."""

    def step(self, step: int, total: int, label: Label | str = "", preview: Image.Image | None = None) -> None: ...

    def check_cancelled(self) -> None: ...

    def deliver(self, item: Any) -> None: ...


class Task:
    def __init__(
        self,
        work: Callable[["Task"], Any],
        name: str = "studio-task",
        cancel: CancelFlag | threading.Event | None = None,
        cancel_when_abandoned: bool = False,
    ):
        self._work = work
        self._name = name
        self.cancel_flag = cancel if cancel is not None else CancelFlag()
        self._cancel_when_abandoned = cancel_when_abandoned
        self._events: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self.steps_reported = 0
        # What a page that comes back (a reload) needs to follow the work: read, never consumed.
        self.last_progress: Progress | None = None
        self.delivered: list[Any] = []
        self.outcome: str | None = None  # "done", "cancelled" or "failed" once it has ended

    # -- called by the work, in the worker thread --

    def step(self, step: int, total: int, label: Label | str = "", preview: Image.Image | None = None) -> None:
        """Report progress; raises Cancelled once Cancel was pressed. A screened run (studio.safety)
        shows no live previews: only checked pictures leave it."""
        self.check_cancelled()
        if preview is not None and not previews_shown.get():
            preview = None
        self.steps_reported += 1
        self.last_progress = Progress(step, total, label, preview)
        self._events.put(self.last_progress)

    def check_cancelled(self) -> None:
        if self.cancel_flag.is_set():
            raise Cancelled()

    def deliver(self, item: Any) -> None:
        self.delivered.append(item)
        self._events.put(Delivered(item))

    # -- called by the caller --

    def cancel(self) -> None:
        self.cancel_flag.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        try:
            value = self._work(self)
            self.outcome = "done"
            self._events.put(Finished(value))
        except BaseException as exc:  # re-raised in the caller's thread
            self.outcome = "cancelled" if isinstance(exc, Cancelled) else "failed"
            self._events.put(exc)

    def events(self) -> Iterator[Event]:
        """Progress and delivered items as they come, then ``Finished``; errors re-raised.
        Progress events that piled up are merged (only the latest is yielded)."""
        # The work runs in this caller's context (a run's safety screen, studio.safety).
        self._thread = threading.Thread(target=contextvars.copy_context().run, args=(self._run,), name=self._name,
                                        daemon=True)
        self._thread.start()
        finished = False
        try:
            while True:
                try:
                    event = self._events.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    continue
                pending = [event]
                while True:
                    try:
                        pending.append(self._events.get_nowait())
                    except queue.Empty:
                        break
                latest_progress = max((i for i, e in enumerate(pending) if isinstance(e, Progress)), default=None)
                for i, event in enumerate(pending):
                    if isinstance(event, BaseException):
                        finished = True
                        raise event
                    if isinstance(event, Progress) and i != latest_progress:
                        continue
                    yield event
                    if isinstance(event, Finished):
                        finished = True
                        return
        finally:
            if not finished and self._cancel_when_abandoned:
                self.cancel()

    def run(self) -> Any:
        """Run to the end in this thread's view (scripts, the API): the work's return value."""
        for event in self.events():
            if isinstance(event, Finished):
                return event.value
        return None

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)


STOP_WAIT_SECONDS = 30.0  # a step of full-size work on a slow card; the slot is held until it stops


def task_events(work: Callable[[Task], Any], cancel: CancelFlag | None = None,
                name: str = "studio-task") -> Iterator[Event]:
    """``work(task)`` as plain, picklable events: what a GPU function yields (on a ZeroGPU Space
    each one crosses from the worker to the server). A Cancel ends it with ``Stopped`` instead of
    an exception; a caller that closes it (ZeroGPU's own way to stop a generator) cancels the work
    and waits for it to stop, so the GPU is free when this returns."""
    task = Task(work, name, cancel)
    try:
        yield from task.events()
    except Cancelled:
        yield Stopped()
    finally:
        if task.running:
            task.cancel()
            task.join(STOP_WAIT_SECONDS)


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    """Poll ``predicate`` until true or ``timeout`` seconds pass (tests and shutdown paths)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
