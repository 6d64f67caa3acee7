"""The ONE shared model cache.

- ``get(spec)`` returns the model on the cache's device; a second ``get`` is a hit and
  loads nothing. ``use(spec)`` does the same and pins the model for a request, so it is
  never evicted mid-request.
- Models live within a byte budget on the device. When a new one does not fit, the
  least recently used unpinned models are offloaded to CPU RAM (when the device is a
  GPU and RAM allows) or dropped.
- Thread-safe: concurrent ``get`` of one spec loads it once (per-spec load locks);
  bookkeeping is under one re-entrant lock. Loading a model, moving it onto the device
  and moving evicted models off it all happen outside that lock (room is reserved, and
  a model being moved is marked not ready, first), so other models stay usable.
- CUDA out-of-memory while placing or running: evict everything not in use, empty the
  CUDA cache, retry once, then a clear ``OutOfMemory`` error.
- Memory plans (``studio.models.plans``): ``use(spec, where="host")`` pins a model parked in
  CPU RAM, for a request alone, so offload hooks may move its parts onto the device in turn;
  ``reserve(n)`` counts the device memory such a run holds at its peak, evicting idle models
  first. ``use(spec, where="any")`` pins a model wherever it is (new loads stay in RAM), to
  read it before a plan is chosen.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import threading
import time
from collections import OrderedDict, deque
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, TypeVar

from studio import gc_tuning
from studio.errors import OutOfMemory
from studio.models.specs import ModelSpec

log = logging.getLogger(__name__)
T = TypeVar("T")

Loader = Callable[[ModelSpec], Any]
Mover = Callable[[Any, str], None]  # (loaded value, device) -> None; moves it in place
EVENTS_KEPT = 1000
WHERE = ("device", "host", "any")
# How long a request waits for a model another request holds in RAM for an offloaded run (or
# for the other users of a model it must move to RAM) before it gives up with a sentence.
EXCLUSIVE_WAIT_SECONDS = 600.0


@dataclass
class CacheEntry:
    spec: ModelSpec
    value: Any
    size_bytes: int
    load_seconds: float
    last_used: float
    hits: int = 0
    in_use: int = 0
    offloaded: bool = False  # parked in CPU RAM (or on its way there), off the cache's device
    ready: bool = True  # False while its weights are being moved onto or off the device
    exclusive: bool = False  # pinned in RAM by one request whose offload hooks move its parts
    plan_note: str = ""  # how its last request ran (a memory plan), for the Models tab
    plan_details: dict | None = None  # the same plan's figures (MemoryPlan.as_dict)


@dataclass
class _Offload:
    """An evicted entry on its way to RAM: marked offloaded and not ready, its load lock held."""

    entry: CacheEntry
    value: Any
    load_lock: threading.Lock


# --- walking a loaded value: modules, pipelines, bundles -----------------------------------


def _torch():
    return sys.modules.get("torch")


def _parts(value: Any) -> Iterator[Any]:
    """Torch modules and pipelines inside ``value`` (a module, pipeline, dataclass bundle, ...)."""
    torch = _torch()
    if value is None or torch is None:
        return
    if isinstance(value, torch.nn.Module):
        yield value
    elif hasattr(value, "components") and callable(getattr(value, "to", None)):
        yield value  # a diffusers pipeline moves all its components itself
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _parts(getattr(value, f.name))
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _parts(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _parts(item)


def _modules(value: Any) -> Iterator[Any]:
    torch = _torch()
    for part in _parts(value):
        if isinstance(part, torch.nn.Module):
            yield part
        else:
            for component in part.components.values():
                if isinstance(component, torch.nn.Module):
                    yield component


def size_of(value: Any) -> int:
    """Bytes of parameters and buffers, shared tensors counted once. A meta-device build (the
    memory planner's) counts what its tensors will take once loaded."""
    seen: set[int] = set()
    total = 0
    for module in _modules(value):
        for tensor in list(module.parameters()) + list(module.buffers()):
            key = id(tensor) if tensor.device.type == "meta" else tensor.data_ptr()
            if key in seen:
                continue
            seen.add(key)
            total += tensor.numel() * tensor.element_size()
    return total


def _part_sizes(value: Any) -> dict[str, int]:
    sizes = getattr(value, "component_sizes", None)
    return dict(sizes()) if callable(sizes) else {}


def move(value: Any, device: str) -> None:
    for part in _parts(value):
        part.to(device)


def is_cuda_oom(exc: BaseException) -> bool:
    torch = _torch()
    if torch is not None and isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def _empty_device_cache() -> None:
    gc_tuning.collect_all()
    torch = _torch()
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


def _state(entry: CacheEntry) -> str:
    """ready | loading (on its way to the device) | offloading | offloaded."""
    if entry.ready:
        return "offloaded" if entry.offloaded else "ready"
    return "offloading" if entry.offloaded else "loading"


# --- the cache -----------------------------------------------------------------------------


class ModelCache:
    def __init__(
        self,
        loader: Loader,
        device: str = "cpu",
        budget_bytes: int | None = None,
        offload_device: str | None = None,
        offload_budget_bytes: int = 0,
        clock: Callable[[], float] = time.monotonic,
        placement: Callable[[], dict[str, Any]] | None = None,
        max_entries: int = 32,
        mover: Mover | None = None,
    ):
        """``loader(spec)`` returns the model on the CPU; the cache moves it to ``device``.

        ``budget_bytes`` bounds what lives on ``device`` (None: unbounded). Evicted models are
        parked on ``offload_device`` (CPU RAM for a GPU cache) while they fit in
        ``offload_budget_bytes``, else dropped; with no ``offload_device`` they are dropped.

        ``placement``, when given, is called once on first use and returns these settings as
        a dict: the app passes it so that torch is not imported before the server is up.

        ``max_entries`` bounds how many models are kept at all, so that weightless entries
        (tokenizers for every id a student types) cannot pile up in RAM.

        ``mover(value, device)`` moves weights (default: ``.to(device)`` on each part);
        tests inject a slow or failing one.
        """
        self._loader = loader
        self._placement = placement
        self._device = device
        self._budget_bytes = budget_bytes
        self._offload_device = offload_device
        self._offload_budget_bytes = offload_budget_bytes
        self._clock = clock
        self._max_entries = max_entries
        self._mover = mover or move
        self._entries: OrderedDict[tuple, CacheEntry] = OrderedDict()  # LRU first
        self._lock = threading.RLock()
        self._released = threading.Condition(self._lock)  # a pin was let go
        self._reserved = 0  # device bytes held by offloaded runs (see reserve)
        self._load_locks: dict[tuple, threading.Lock] = {}
        self.hits = 0
        self.misses = 0
        # (load|offload|restore|drop, spec), the most recent EVENTS_KEPT only.
        self.events: deque[tuple[str, str]] = deque(maxlen=EVENTS_KEPT)

    def _resolve_placement(self) -> None:
        if self._placement is None:
            return
        with self._lock:
            if self._placement is not None:
                for name, value in self._placement().items():
                    setattr(self, f"_{name}", value)
                self._placement = None

    @property
    def device(self) -> str:
        self._resolve_placement()
        return self._device

    @property
    def budget_bytes(self) -> int | None:
        self._resolve_placement()
        return self._budget_bytes

    @property
    def offload_budget_bytes(self) -> int | None:
        """RAM that models parked off the device may take (None: the device is the CPU)."""
        self._resolve_placement()
        return self._offload_budget_bytes if self._offload_device else None

    # -- public API --

    def get(self, spec: ModelSpec) -> Any:
        """The model on the cache's device. Not pinned: prefer ``use`` inside a request."""
        with self.use(spec) as value:
            return value

    @contextmanager
    def use(self, spec: ModelSpec, where: str = "device") -> Iterator[Any]:
        """Pin ``spec`` for the duration of the block: it cannot be evicted meanwhile.

        ``where``: "device" (on the cache's device), "host" (parked in CPU RAM, for this
        request alone: its offload hooks move the parts), or "any" (wherever it is; a model
        not loaded yet is loaded into RAM and not moved)."""
        if where not in WHERE:
            raise ValueError(f"where must be one of {WHERE}, not {where!r}")
        entry = self._acquire_host(spec) if where == "host" else self._acquire(spec, move=where == "device")
        try:
            yield entry.value
        finally:
            with self._lock:
                entry.in_use -= 1
                if where == "host":
                    entry.exclusive = False
                entry.last_used = self._clock()
                self._released.notify_all()

    @contextmanager
    def reserve(self, size: int, label: str) -> Iterator[None]:
        """Count ``size`` bytes of the device as busy for the block (an offloaded run's peak:
        the parts its hooks bring in and their working memory); idle models are evicted first."""
        with self._lock:
            offloads = self._make_room(size, ModelSpec(kind="run", source=label))
            self._reserved += size
        try:
            self._finish_offloads(offloads)
            yield
        finally:
            with self._lock:
                self._reserved -= size

    def hold(self, size: int, label: str) -> None:
        """Count ``size`` bytes of the device as busy until ``let_go`` (a training job running
        beside the cache); idle models are evicted first, OutOfMemory when they cannot be."""
        with self._lock:
            offloads = self._make_room(size, ModelSpec(kind="run", source=label))
            self._reserved += size
        self._finish_offloads(offloads)

    def let_go(self, size: int) -> None:
        with self._lock:
            self._reserved -= size

    def note(self, spec: ModelSpec, text: str, details: dict | None = None) -> None:
        """Say how a model's last request ran (its memory plan), for the Models tab: the English
        line, and its figures (``MemoryPlan.as_dict``) for a page in another language."""
        with self._lock:
            entry = self._entries.get(spec.key)
            if entry is not None:
                entry.plan_note, entry.plan_details = text, details

    def remeasure(self, spec: ModelSpec) -> None:
        """Size a pinned model again after its weights changed in place (fp8 storage)."""
        with self._lock:
            entry = self._entries.get(spec.key)
            if entry is not None:
                entry.size_bytes = size_of(entry.value)

    def where(self, spec: ModelSpec) -> str | None:
        """"device", "host" or None (not loaded)."""
        with self._lock:
            entry = self._entries.get(spec.key)
            return None if entry is None else ("host" if entry.offloaded else "device")

    def run(self, fn: Callable[[], T]) -> T:
        """Run model work; on CUDA OOM free everything unpinned and retry once."""
        try:
            return fn()
        except Exception as exc:
            if not is_cuda_oom(exc):
                raise
        log.warning("CUDA out of memory: freeing idle models and retrying once")
        self._evict_all_unpinned()
        try:
            return fn()
        except Exception as exc:
            if is_cuda_oom(exc):
                raise OutOfMemory(
                    "The GPU ran out of memory even after unloading every idle model. "
                    "Try a smaller size or fewer images, or free models in the Models tab."
                ) from exc
            raise

    def explain_oom(self, exc: BaseException) -> BaseException:
        """For work that cannot simply be retried: on CUDA OOM free idle models for the next
        request and give a clear error; any other exception is returned as it is."""
        if not is_cuda_oom(exc):
            return exc
        self._evict_all_unpinned()
        return OutOfMemory(
            "The GPU ran out of memory during this request; idle models were unloaded. "
            "Try again, with a shorter prompt or fewer new tokens."
        )

    def contains(self, spec: ModelSpec) -> bool:
        with self._lock:
            return spec.key in self._entries

    def free(self, spec_or_key: ModelSpec | tuple) -> bool:
        """Drop one model unless it is in use. True when it was dropped."""
        key = spec_or_key.key if isinstance(spec_or_key, ModelSpec) else tuple(spec_or_key)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.in_use:
                return False
            self._drop(entry)
        _empty_device_cache()
        return True

    def free_all(self) -> int:
        """Drop every model not in use; returns how many were dropped."""
        with self._lock:
            idle = [e for e in self._entries.values() if not e.in_use]
            for entry in idle:
                self._drop(entry)
        _empty_device_cache()
        return len(idle)

    def device_bytes(self) -> int:
        with self._lock:
            return self._reserved + sum(e.size_bytes for e in self._entries.values() if not e.offloaded)

    def reserved_bytes(self) -> int:
        with self._lock:
            return self._reserved

    def offloaded_bytes(self) -> int:
        with self._lock:
            return sum(e.size_bytes for e in self._entries.values() if e.offloaded)

    def stats(self) -> dict[str, Any]:
        device = self.device
        now = self._clock()
        with self._lock:
            models = [
                {
                    "name": e.spec.label or e.spec.kind,
                    "model": e.spec.source + (f"/{e.spec.subfolder}" if e.spec.subfolder else ""),
                    "kind": e.spec.kind,
                    "key": list(e.spec.key),
                    "device": f"{self._offload_device} (offloaded)" if e.offloaded else device,
                    "state": _state(e),
                    "size_bytes": e.size_bytes,
                    "hits": e.hits,
                    "load_seconds": round(e.load_seconds, 3),
                    "idle_seconds": round(now - e.last_used, 1),
                    "in_use": e.in_use,
                    "plan": e.plan_note,
                    "plan_details": e.plan_details,
                    # A multi-component model (an image pipeline) lists its parts' sizes.
                    "parts": _part_sizes(e.value),
                }
                for e in reversed(self._entries.values())  # most recently used first
            ]
            return {
                "device": device,
                "budget_bytes": self._budget_bytes,
                "device_bytes": self.device_bytes(),
                "reserved_bytes": self._reserved,
                "offload_device": self._offload_device,
                "offload_budget_bytes": self._offload_budget_bytes if self._offload_device else None,
                "offloaded_bytes": self.offloaded_bytes(),
                "hits": self.hits,
                "misses": self.misses,
                "models": models,
            }

    # -- internals --

    def _wait_not_exclusive(self, key: tuple) -> None:
        """Wait while another request holds ``key`` in RAM for an offloaded run. Caller holds the lock."""
        deadline = time.monotonic() + EXCLUSIVE_WAIT_SECONDS
        while (entry := self._entries.get(key)) is not None and entry.exclusive:
            if not self._released.wait(timeout=deadline - time.monotonic()) and time.monotonic() >= deadline:
                raise OutOfMemory(
                    f"{entry.spec.source} is busy with another request that runs it offloaded. Try again in a moment."
                )

    def _acquire(self, spec: ModelSpec, move: bool = True) -> CacheEntry:
        """Pin ``spec`` on the device (``move``) or wherever it is (not ``move``: a model loaded
        now stays in RAM)."""
        key = spec.key
        device = self.device
        with self._lock:
            self._wait_not_exclusive(key)
            entry = self._entries.get(key)
            if entry is not None and entry.ready and (not entry.offloaded or not move):
                return self._pin_hit(entry, counted=move)
            load_lock = self._load_lock(key)
        # Loading, and moving weights between devices, happen under this spec's own lock only:
        # other models stay usable meanwhile. Concurrent callers of this spec wait here, and so
        # do callers of a spec that is being moved off the device (its evictor holds its lock).
        with load_lock:
            started = time.perf_counter()
            with self._lock:
                self._wait_not_exclusive(key)
                entry = self._entries.get(key)
                if entry is not None and (not entry.offloaded or not move):
                    return self._pin_hit(entry, counted=move)  # placed by the caller we waited for
                if entry is None and not move:
                    return self._load_parked(spec, started)
                restoring = entry is not None
                if restoring:  # parked in RAM: reserve its room, bring it back below
                    offloads = self._make_room(entry.size_bytes, spec)
                    self._pin_hit(entry)
                    entry.offloaded, entry.ready = False, False
                else:
                    self.misses += 1
            if not restoring:
                entry, offloads = self._load(spec)
            self._finish_offloads(offloads)  # make the room real before filling it
            try:
                self.run(lambda: self._mover(entry.value, device))
            except BaseException:
                with self._lock:
                    entry.in_use -= 1
                    self._drop(entry)  # half-moved weights are not worth keeping
                raise
            with self._lock:
                entry.ready = True
                if not restoring:
                    entry.load_seconds = time.perf_counter() - started
                self._trim_entries()
                self.events.append(("restore" if restoring else "load", str(spec)))
            if not restoring:
                log.info("loaded %s (%.1f MB) in %.2fs", spec, entry.size_bytes / 1e6, entry.load_seconds)
            return entry

    def _acquire_host(self, spec: ModelSpec) -> CacheEntry:
        """Pin ``spec`` in CPU RAM for this request alone: loaded there, or moved there once no
        other request uses it, or found there; other requests for it wait until it is let go."""
        key = spec.key
        deadline = time.monotonic() + EXCLUSIVE_WAIT_SECONDS
        while True:
            entry = self._acquire(spec, move=False)  # pinned wherever it is (a new load stays in RAM)
            with self._lock:
                while entry.in_use > 1 or entry.exclusive:  # others use it: wait for them to finish
                    if self._entries.get(key) is not entry:
                        break
                    if not self._released.wait(timeout=deadline - time.monotonic()) and time.monotonic() >= deadline:
                        entry.in_use -= 1
                        self._released.notify_all()
                        raise OutOfMemory(f"{spec.source} is in use by other requests; try again in a moment.")
                if self._entries.get(key) is entry and not entry.exclusive:
                    entry.exclusive = True
                    self.hits += 1
                    entry.hits += 1
                    if entry.offloaded or not entry.ready:
                        return entry
                    moving = True
                else:  # dropped while we waited (Free in the Models tab): start again
                    entry.in_use -= 1
                    continue
            if moving:
                self._park(entry)
                return entry

    def _park(self, entry: CacheEntry) -> None:
        """Move a pinned, exclusive entry from the device into RAM."""
        target = self._offload_device or "cpu"
        with self._lock:
            entry.offloaded, entry.ready = True, False
        try:
            self._mover(entry.value, target)
        except BaseException:
            with self._lock:
                entry.in_use -= 1
                entry.exclusive = False
                self._drop(entry)
                self._released.notify_all()
            raise
        with self._lock:
            entry.ready = True
            self.events.append(("offload", str(entry.spec)))

    def _load_parked(self, spec: ModelSpec, started: float) -> CacheEntry:
        """Load ``spec`` into RAM, pinned, without moving it to the device. Caller holds the
        spec's load lock and the bookkeeping lock (released while loading)."""
        self.misses += 1
        self._lock.release()
        try:
            value = self.run(lambda: self._loader(spec))
        finally:
            self._lock.acquire()
        entry = CacheEntry(spec=spec, value=value, size_bytes=size_of(value), load_seconds=0.0,
                           last_used=self._clock(), in_use=1, offloaded=True)
        self._entries[spec.key] = entry
        entry.load_seconds = time.perf_counter() - started
        self._trim_entries()
        self.events.append(("load", str(spec)))
        log.info("loaded %s (%.1f MB) into RAM in %.2fs", spec, entry.size_bytes / 1e6, entry.load_seconds)
        return entry

    def _load_lock(self, key: tuple) -> threading.Lock:
        """This spec's load lock. Caller holds the bookkeeping lock."""
        return self._load_locks.setdefault(key, threading.Lock())

    def _load(self, spec: ModelSpec) -> tuple[CacheEntry, list[_Offload]]:
        """Load onto the CPU (no lock held), then reserve room on the device and insert the
        entry pinned and not yet ready; the caller finishes the offloads and moves it in."""
        value = self.run(lambda: self._loader(spec))
        size = size_of(value)
        with self._lock:
            offloads = self._make_room(size, spec)
            entry = CacheEntry(
                spec=spec,
                value=value,
                size_bytes=size,
                load_seconds=0.0,  # set once placed
                last_used=self._clock(),
                in_use=1,
                ready=False,
            )
            self._entries[spec.key] = entry  # counts against the budget from now on
            return entry, offloads

    def _pin_hit(self, entry: CacheEntry, counted: bool = True) -> CacheEntry:
        """Count a hit (unless it is a look before a plan: ``where="any"``) and pin. Caller holds the lock."""
        if counted:
            self.hits += 1
            entry.hits += 1
        entry.in_use += 1
        entry.last_used = self._clock()
        self._entries.move_to_end(entry.spec.key)
        return entry

    def _make_room(self, size: int, for_spec: ModelSpec) -> list[_Offload]:
        """Evict least recently used idle models until ``size`` fits on the device. Caller
        holds the lock. Nothing is evicted unless enough can be; the returned offloads are
        already off the books, and the caller must pass them to ``_finish_offloads``."""
        budget = self._budget_bytes
        if budget is None:
            return []
        if size > budget:
            raise OutOfMemory(
                f"{for_spec.source} needs {size / 1024**3:.2f} GB but the model budget is "
                f"{budget / 1024**3:.2f} GB. Raise --vram-budget or pick a smaller model."
            )
        missing = self.device_bytes() + size - budget
        victims: list[tuple[CacheEntry, threading.Lock]] = []
        for entry in self._entries.values():  # least recently used first
            if missing <= 0:
                break
            weightless = entry.size_bytes == 0  # a tokenizer: evicting it frees no device memory
            if entry.in_use or entry.offloaded or not entry.ready or weightless or entry.spec.key == for_spec.key:
                continue
            load_lock = self._load_lock(entry.spec.key)
            if not load_lock.acquire(blocking=False):
                continue  # someone is about to use it: leave it be
            victims.append((entry, load_lock))
            missing -= entry.size_bytes
        if missing > 0:
            for _, load_lock in victims:
                load_lock.release()
            raise OutOfMemory(
                f"{for_spec.source} does not fit next to the models in use right now "
                f"({self.device_bytes() / 1024**3:.2f} of {budget / 1024**3:.2f} GB busy). "
                "Wait for the other requests to finish, then try again."
            )
        return [offload for entry, load_lock in victims if (offload := self._evict(entry, load_lock))]

    def _trim_entries(self) -> None:
        """Drop least recently used idle entries beyond ``max_entries``. Caller holds the lock."""
        for entry in list(self._entries.values()):
            if len(self._entries) <= self._max_entries:
                return
            if not entry.in_use:
                self._drop(entry)

    def _evict(self, entry: CacheEntry, load_lock: threading.Lock) -> _Offload | None:
        """Park in RAM when there is room there, else drop. Caller holds the lock and the
        entry's load lock. Parking only marks it here: the move itself is slow (gigabytes),
        so ``_finish_offloads`` does it outside the lock."""
        room = self._offload_budget_bytes - self.offloaded_bytes()
        if self._offload_device is not None and entry.size_bytes <= room:
            entry.offloaded, entry.ready = True, False  # off the device's books, RAM's room taken
            return _Offload(entry, entry.value, load_lock)
        self._drop(entry)
        load_lock.release()
        return None

    def _finish_offloads(self, offloads: list[_Offload]) -> None:
        """Move evicted models to RAM, without the bookkeeping lock. A failed move drops the
        model (half-moved weights are not worth keeping); either way its load lock is freed,
        so a caller waiting for that model restores or reloads it next."""
        for offload in offloads:
            entry = offload.entry
            try:
                self._mover(offload.value, self._offload_device)
            except Exception:
                log.warning("moving %s to %s failed; dropping it", entry.spec, self._offload_device, exc_info=True)
                with self._lock:
                    if self._entries.get(entry.spec.key) is entry:
                        self._drop(entry)
            else:
                with self._lock:
                    if self._entries.get(entry.spec.key) is entry:  # not freed meanwhile
                        entry.ready = True
                        self.events.append(("offload", str(entry.spec)))
                        log.info("offloaded %s to %s", entry.spec, self._offload_device)
            finally:
                offload.load_lock.release()

    def _drop(self, entry: CacheEntry) -> None:
        del self._entries[entry.spec.key]
        entry.value = None
        gc_tuning.dropped()
        self.events.append(("drop", str(entry.spec)))
        log.info("dropped %s", entry.spec)

    def _evict_all_unpinned(self) -> None:
        with self._lock:
            for entry in list(self._entries.values()):
                if not entry.in_use:
                    self._drop(entry)  # under OOM, parking in RAM would keep fragments alive
        _empty_device_cache()
