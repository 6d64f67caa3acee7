"""The front's side of a Ray cluster: start the replicas, send them calls, follow each call.

    cluster = RayCluster(settings)
    problem = cluster.start()          # None, or why the cluster cannot be used (then work runs here)
    studio.cluster = cluster           # @replicated functions now run on the replicas

The Gradio app stays the one front door: owners, history and files are here. A call goes to a
replica routed by its model key; its progress, previews and results stream back; results are
saved in the owner's folder here. Cancel reaches the replica through the notice board and stops
the work within a step. A replica lost mid-call costs one retry on another, same seeds, and the
call says so; a cluster that stops answering gives a sentence, never a hung page. With
``--ray auto`` the studio's Ray and its replicas end with the studio (``close_on_exit``).
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import os
import queue
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from studio.cluster import auth, retried, wire
from studio.errors import StudioError
from studio.progress import Cancelled

if TYPE_CHECKING:
    from types import FrameType

    from studio.progress import CancelFlag, TaskLike
    from studio.replicated import Replicated
    from studio.settings import Settings

log = logging.getLogger(__name__)

APP_NAME = "studio"
ROOT = Path(__file__).resolve().parents[2]
CONNECT_SECONDS = 60  # ray.init and the replicas' start, at most
ACCEPT_SECONDS = 120  # a call no replica takes within this ends with a sentence
CANCEL_GRACE_SECONDS = 30  # a replica that does not stop within this after Cancel is cut off
# A replica a call lost is left out of the list this long (a passing fault lets it back after), by
# when the board has dropped it anyway if it went silent (board.GONE_SECONDS).
LOST_HIDDEN_SECONDS = 15
CLOSE_SECONDS = 30  # at exit: the Serve application's replicas stop within their 5 s grace, Ray after
POLL_SECONDS = 0.1
PASSED_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_ENDPOINT", "HF_TOKEN", "STUDIO_LOG_LOOP_STALLS")
# Shipped to every node as the replicas' code (Ray's working_dir); never user data or builds.
# (gitignore patterns: a leading / anchors them at the project's root, so studio/models stays.)
NOT_SHIPPED = ["/.git", "/.venv", "/outputs", "/models", "/.cache", "/wildcards", "/tests", "/benchmarks", "*.png"]


class ClusterUnavailable(StudioError):
    """The cluster cannot be reached; the sentence says so and what to do."""


class _ReplicaLost(Exception):
    """The replica running a call went away mid-call (a crash, a node lost)."""


def _first_line(exc: BaseException) -> str:
    """An exception in a sentence's brackets: its type and the first line of its text."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0][:200]}" if text else type(exc).__name__


def _pass_env() -> dict[str, str]:
    return {name: os.environ[name] for name in PASSED_ENV if os.environ.get(name)}


def init_ray(address: str, **options: Any) -> None:
    """Join the cluster at ``address`` ("auto": the local one, started when none runs), with the
    project's code shipped to every node for the replicas, unless this process has joined one."""
    import ray

    from studio.cluster import board as notice_board

    if ray.is_initialized():
        return
    runtime_env = {"working_dir": str(ROOT), "excludes": NOT_SHIPPED, "env_vars": _pass_env()}
    ray.init(address=None if address == "auto" else address, runtime_env=runtime_env,
             namespace=notice_board.NAMESPACE, include_dashboard=False, logging_level=logging.WARNING,
             log_to_driver=False, **options)


def replica_settings(settings: Settings) -> Settings:
    """The front's settings for its replicas: folders made absolute (a replica runs in its own
    working folder), and no cluster of their own."""
    absolute = {f.name: Path(getattr(settings, f.name)).absolute()
                for f in dataclasses.fields(settings) if isinstance(getattr(settings, f.name), Path)}
    return dataclasses.replace(settings, ray=None, **absolute)


class RayCluster:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.address = settings.ray
        self.handle: Any = None
        self.board: Any = None
        self.replica_count = 0
        self.problem: str | None = None  # why work runs here instead (None while the cluster is used)
        self.run_here = False  # the teacher chose this machine (the Models tab) after a problem
        self.calls_by_replica: dict[str, int] = {}  # which replica took how many of this front's calls
        self.running: dict[str, str] = {}  # call -> the replica running it now
        self.lost: dict[str, float] = {}  # replica -> when a call of this front lost it (time.time())
        self._lock = threading.Lock()
        self._gave_up = False

    # --- starting -----------------------------------------------------------------------------

    @property
    def in_use(self) -> bool:
        return self.handle is not None and not self.run_here

    def start(self, timeout: float = CONNECT_SECONDS) -> str | None:
        """Connect and start the replicas, within ``timeout`` seconds; None, or the sentence that
        says why not (the studio then runs its work on this machine)."""
        outcome: dict[str, Any] = {}

        def connect() -> None:
            try:
                self._connect()
            except BaseException as exc:  # noqa: BLE001 - reported below, in a sentence
                outcome["error"] = exc
            finally:
                done.set()
            # A local Ray instance's processes (GCS, raylet) die with the *thread* that started
            # them (Linux's parent-death signal, which Ray sets): this one stays for the process's life.
            threading.Event().wait()

        done = threading.Event()
        worker = threading.Thread(target=connect, name="studio-ray-connect", daemon=True)
        worker.start()
        if not done.wait(timeout):
            self._gave_up = True
            self.problem = (f"The Ray cluster at {self.address} did not answer within {timeout:.0f} s; GPU work runs "
                            "on this machine. Check `ray status` on the head node, then restart the studio.")
        elif "error" in outcome:
            exc = outcome["error"]
            if auth.is_refusal(exc):
                self.problem = auth.explain(self.address)
            else:
                self.problem = (f"The Ray cluster at {self.address} cannot be used ({_first_line(exc)}); "
                                "GPU work runs on this machine.")
        if self.problem:
            self.handle = None
            log.warning(self.problem)
        return self.problem

    def _connect(self) -> None:
        try:
            import ray
            from ray import serve
        except ImportError:
            raise ClusterUnavailable('Ray Serve is not installed: pip install "ray[serve]"') from None
        from studio.cluster import board as notice_board
        from studio.cluster.quiet import quiet_lost_replicas
        from studio.cluster.replica import StudioReplica

        quiet_lost_replicas()
        init_ray(self.address)
        board = notice_board.board(on_this_node=True)
        gpus = int(ray.cluster_resources().get("GPU", 0))
        replicas = self.settings.ray_replicas or gpus or 2
        per_replica = {"num_gpus": 1} if gpus else {"num_cpus": self.settings.ray_replica_cpus}
        deployment = serve.deployment(
            StudioReplica, name="StudioReplica", num_replicas=replicas, ray_actor_options=per_replica,
            # As many calls at once as one local GPU would run; the front's queue holds the rest.
            max_ongoing_requests=self.settings.concurrency,
            graceful_shutdown_timeout_s=5,
        )
        handle = serve.run(deployment.bind(replica_settings(self.settings)), name=APP_NAME, route_prefix=None)
        if self._gave_up:  # start() has said "runs on this machine" already: keep to it
            serve.delete(APP_NAME)
            return
        self.board, self.handle, self.replica_count = board, handle, replicas
        log.info("Ray Serve: %d replica(s), each %s", replicas, per_replica)

    def use_here(self, here: bool) -> None:
        """The Models tab's choice: GPU work on this machine (True) or on the cluster."""
        self.run_here = bool(here)

    def stop(self) -> None:
        if self.handle is None:
            return
        from ray import serve

        try:
            serve.delete(APP_NAME)
        except Exception:  # noqa: BLE001 - stopping a cluster that is gone already
            log.debug("serve.delete failed", exc_info=True)
        self.handle = None

    def close_on_exit(self) -> None:
        """With ``--ray auto`` (a Ray of the studio's own): its Serve application, then Ray, stop
        when the studio exits, by Ctrl-C or by SIGTERM (a service manager's stop), instead of leaving
        the replicas running. A cluster at an address is the teacher's: it keeps the application
        (the README says how to stop it)."""
        if self.address != "auto":
            return
        atexit.register(self.close)
        # SIGTERM's default ends the process without atexit; as Ctrl-C, it lets the app close.
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _interrupt)

    def close(self, timeout: float = CLOSE_SECONDS) -> None:
        """Stop the studio's Serve application and leave Ray (a Ray this process started stops)."""

        def shut() -> None:
            self.stop()
            import ray

            ray.shutdown()

        worker = threading.Thread(target=shut, name="studio-ray-close", daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            log.warning("Ray did not stop within %.0f s; its processes may outlive the studio.", timeout)

    # --- what the Models tab shows --------------------------------------------------------------

    def replicas(self, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Each live replica's last report: device, what its cache holds, calls running and served
        (none while the cluster is not connected). A replica is left out as soon as a call here
        lost it or Ray says its actor is dead; the board's own silence rule is the last resort."""
        if self.board is None:
            return []
        now = time.time()
        return [{**r, "heard_seconds_ago": round(now - r["heard"], 1)} for r in self._reports(timeout)
                if not self._gone(r, now)]

    def _reports(self, timeout: float) -> list[dict[str, Any]]:
        import ray

        from studio.cluster import board as notice_board

        try:
            return ray.get(self.board.reports.remote(), timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - the board's node may be gone: find (or start) it again once
            first = exc
        try:
            self.board = notice_board.board(on_this_node=True)
            return ray.get(self.board.reports.remote(), timeout=timeout)
        except Exception:  # noqa: BLE001
            raise ClusterUnavailable(f"The Ray cluster's replicas did not answer ({type(first).__name__}).") from first

    def _gone(self, report: dict[str, Any], now: float) -> bool:
        lost_at = self.lost.get(report["replica"])
        if lost_at is not None and now - lost_at < LOST_HIDDEN_SECONDS:
            return True
        return _actor_dead(report.get("actor"))

    # --- calls ----------------------------------------------------------------------------------

    def call(self, entry: Replicated, arguments: dict[str, Any]) -> Any:
        """Run ``entry``'s function on a replica with ``arguments`` (by name), as if it ran here."""
        folder = arguments.get(entry.folder) if entry.folder else None
        sent = dict(arguments)
        task = sent.pop(entry.task, None) if entry.task else None
        cancel = sent.pop(entry.cancel, None) if entry.cancel else None
        if entry.folder:
            sent[entry.folder] = None  # saved here, by the front
        if entry.owner and folder is not None and not sent.get(entry.owner):
            sent[entry.owner] = Path(folder).name
        sent = wire.fixed_seeds(sent)
        if entry.streams:
            return self._stream(entry, sent, cancel)
        return self._with_retry(entry, sent, task, folder)

    def _with_retry(self, entry: Replicated, sent: dict[str, Any], task: TaskLike | None, folder: Path | None) -> Any:
        first: list[Any] = []  # what the first replica delivered (saved here already)
        try:
            return self._once(entry, sent, task, folder, first)
        except _ReplicaLost as lost:
            log.warning("%s: %s; trying once more on another replica", entry.name, lost)
        # The rest on another replica: what was delivered is kept where the call can finish
        # without it (image i keeps seed + i); otherwise it runs again whole, same seeds.
        keep = first if entry.rest is not None else []
        again = entry.rest(sent, keep) if keep else sent
        _say_retried(task)
        second: list[Any] = []
        try:
            value = self._once(entry, again, task, folder, second, retry=True)
        except _ReplicaLost as lost:
            raise StudioError(
                f"The cluster lost the replica running this twice ({lost}); {len(first) + len(second)} result(s) "
                "were saved. Try again, or run on this machine (Models tab)."
            ) from None
        return keep + value if keep and isinstance(value, list) else value

    def _start_call(self, entry: Replicated, sent: dict[str, Any], call: str) -> tuple[Any, queue.Queue]:
        """The call sent, and a queue its events arrive in (read by a pump thread, so the caller
        can look at Cancel and at the clock while it waits)."""
        if self.handle is None:
            raise ClusterUnavailable("The Ray cluster is not connected.")
        payload = wire.pack(sent)  # pictures as PNG bytes, uploads as their files' bytes
        response = self.handle.options(multiplexed_model_id=entry.route(sent), stream=True).run.remote(
            entry.name, call, payload)
        events: queue.Queue = queue.Queue()

        def pump() -> None:
            try:
                for event in response:
                    events.put(event)
                events.put(("closed",))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                events.put(("lost", exc))

        threading.Thread(target=pump, name=f"studio-ray-{entry.name}", daemon=True).start()
        return response, events

    def _events(self, entry: Replicated, sent: dict[str, Any], cancel_requested: Callable[[], bool]
                ) -> Iterator[tuple]:
        """The call's events as they come; Cancel (``cancel_requested()`` true) is pinned on the
        board once and the replica's own end awaited (it stops within a step)."""
        call = uuid.uuid4().hex
        response, events = self._start_call(entry, sent, call)
        started = time.monotonic()
        accepted = False
        cancel_at: float | None = None
        try:
            while True:
                if cancel_at is None and cancel_requested():
                    cancel_at = time.monotonic()
                    self.board.cancel.remote(call)
                try:
                    event = events.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    now = time.monotonic()
                    if not accepted and now - started > ACCEPT_SECONDS:
                        raise ClusterUnavailable(
                            f"No replica of the Ray cluster took this within {ACCEPT_SECONDS} s: the cluster may be "
                            "down or full. Try again, or run on this machine (Models tab)."
                        )
                    if cancel_at is not None and now - cancel_at > CANCEL_GRACE_SECONDS:
                        raise Cancelled()
                    continue
                kind = event[0]
                if kind == "started":
                    accepted = True
                    with self._lock:
                        self.calls_by_replica[event[1]] = self.calls_by_replica.get(event[1], 0) + 1
                        self.running[call] = event[1]
                    continue
                if kind == "lost":
                    explained = self._explained(event[1])
                    if isinstance(explained, _ReplicaLost):
                        self._mark_lost(call)
                    raise explained
                if kind == "closed":
                    self._mark_lost(call)
                    raise _ReplicaLost("the replica's stream closed before the call ended")
                if kind == "failed":
                    raise event[1]
                yield event
                if kind == "finished":
                    return
        finally:
            with self._lock:
                self.running.pop(call, None)
            response.cancel()  # a no-op once the call has ended; stops it when the caller went away
            if cancel_at is not None:
                self.board.forget.remote(call)

    def _mark_lost(self, call: str) -> None:
        with self._lock:
            replica = self.running.get(call)
            if replica is not None:
                now = time.time()
                self.lost = {r: t for r, t in self.lost.items() if now - t < LOST_HIDDEN_SECONDS}
                self.lost[replica] = now

    def _explained(self, exc: BaseException) -> BaseException:
        from ray import exceptions as ray_errors
        from ray.serve import exceptions as serve_errors

        if isinstance(exc, (ray_errors.RayActorError, ray_errors.ActorUnavailableError,
                            serve_errors.ReplicaUnavailableError)):
            return _ReplicaLost(f"{type(exc).__name__}")
        if isinstance(exc, (serve_errors.RequestCancelledError, ray_errors.TaskCancelledError)):
            return Cancelled()
        return ClusterUnavailable(f"The Ray cluster failed this call ({_first_line(exc)}).")

    def _once(self, entry: Replicated, sent: dict[str, Any], task: TaskLike | None, folder: Path | None,
              delivered: list[Any], retry: bool = False) -> Any:
        """One try on one replica; ``retry``: the second, whose progress and results say so."""
        flag = getattr(task, "cancel_flag", None)
        said = retried.noted if retry else (lambda value: value)
        for event in self._events(entry, sent, lambda: flag is not None and flag.is_set()):
            kind = event[0]
            if kind == "progress" and task is not None and not flag.is_set():
                _, step, total, label, preview = event
                task.step(step, total, retried.RetriedLabel(inner=label) if retry else label, wire.unpack(preview))
            elif kind == "delivered":
                item = _saved(said(wire.unpack(event[1])), folder)
                delivered.append(item)
                if task is not None:
                    task.deliver(item)
            elif kind == "finished":
                value = said(wire.with_delivered(wire.unpack(event[1]), delivered))
                return [_saved(item, folder) for item in value] if isinstance(value, list) else _saved(value, folder)
        raise _ReplicaLost("the call ended without its result")

    def _stream(self, entry: Replicated, sent: dict[str, Any],
                cancel: threading.Event | CancelFlag | None) -> Iterator[Any]:
        """A streamed call (a reply as it grows), retried once on a lost replica if nothing was
        shown yet."""
        for attempt in (1, 2):
            shown = False
            said = retried.noted if attempt == 2 else (lambda value: value)
            try:
                for event in self._events(entry, sent, lambda: cancel is not None and cancel.is_set()):
                    if event[0] == "update":
                        shown = True
                        yield said(wire.unpack(event[1]))
                return
            except _ReplicaLost as lost:
                if shown or attempt == 2:
                    raise StudioError(f"The cluster lost the replica writing this reply ({lost}). Try again.") from None
                log.warning("%s: %s; trying once more on another replica", entry.name, lost)


def _say_retried(task: TaskLike | None) -> None:
    """The progress line says at once that the call moves to another replica (it starts over
    there, so the wait is longer); the second replica's own progress says it after."""
    last = getattr(task, "last_progress", None)
    if last is not None and not task.cancel_flag.is_set():
        task.step(last.step, last.total, retried.RetriedLabel(inner=""), last.preview)


def _actor_dead(name: str | None) -> bool:
    """Whether Ray says a replica's actor is dead (its name is free once it is: a crash at once,
    a lost node once Ray has missed its heartbeats, some 10 s)."""
    if not name:
        return False
    import ray

    try:
        ray.get_actor(name, namespace="serve")
    except ValueError:
        return True
    except Exception:  # noqa: BLE001 - Ray busy or unsure: the replica stays listed
        log.debug("could not look up %s", name, exc_info=True)
    return False


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _saved(item: Any, folder: Path | None) -> Any:
    """A result saved in the owner's folder here (once), as the function would have saved it."""
    if folder is not None and hasattr(item, "save") and getattr(item, "path", "") is None:
        item.save(folder)
    return item
