"""The shared ModelCache: hits, misses, LRU eviction, offload, pinning, concurrency, OOM."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from studio.errors import OutOfMemory
from studio.models.cache import ModelCache, size_of
from studio.models.specs import ModelSpec

UNIT = 1000  # float32 elements per "unit" model -> 4000 bytes
UNIT_BYTES = UNIT * 4


class Blob(torch.nn.Module):
    def __init__(self, units: int):
        super().__init__()
        self.register_buffer("weights", torch.zeros(units * UNIT))


class CountingLoader:
    """Loads ``Blob`` models sized by the spec source ("a:2" = 2 units) and counts calls."""

    def __init__(self, delay: float = 0.0):
        self.calls: list[str] = []
        self.delay = delay
        self._lock = threading.Lock()

    def __call__(self, spec: ModelSpec):
        with self._lock:
            self.calls.append(spec.source)
        time.sleep(self.delay)
        units = int(spec.source.split(":")[1]) if ":" in spec.source else 1
        return Blob(units)


def spec(name: str, dtype: str = "auto") -> ModelSpec:
    return ModelSpec(kind="blob", source=name, dtype=dtype)


def loaded(cache: ModelCache) -> list[str]:
    return sorted(m["model"] for m in cache.stats()["models"] if "offloaded" not in m["device"])


def test_second_get_is_a_hit_and_loads_nothing():
    loader = CountingLoader()
    cache = ModelCache(loader)
    first = cache.get(spec("a"))
    second = cache.get(spec("a"))
    assert first is second
    assert loader.calls == ["a"]
    assert (cache.hits, cache.misses) == (1, 1)
    assert cache.stats()["models"][0]["hits"] == 1


def test_dtype_is_part_of_the_identity():
    loader = CountingLoader()
    cache = ModelCache(loader)
    cache.get(spec("a", "fp16"))
    cache.get(spec("a", "fp32"))
    assert loader.calls == ["a", "a"]
    assert cache.misses == 2


def test_label_is_not_part_of_the_identity():
    assert ModelSpec("blob", "a", label="x").key == ModelSpec("blob", "a", label="y").key


def test_least_recently_used_is_evicted_first():
    loader = CountingLoader()
    cache = ModelCache(loader, budget_bytes=3 * UNIT_BYTES)
    for name in ("a", "b", "c"):
        cache.get(spec(name))
    cache.get(spec("a"))  # a becomes most recent; b is now least recent
    cache.get(spec("d"))
    assert loaded(cache) == ["a", "c", "d"]
    assert ("drop", "blob:b") in cache.events
    assert cache.device_bytes() <= 3 * UNIT_BYTES


def test_eviction_frees_as_many_as_needed_and_no_more():
    cache = ModelCache(CountingLoader(), budget_bytes=4 * UNIT_BYTES)
    for name in ("a", "b", "c", "d"):
        cache.get(spec(name))
    cache.get(spec("big:2"))
    assert loaded(cache) == ["big:2", "c", "d"]


def test_offload_to_ram_then_drop_when_ram_is_short_and_restore_loads_nothing():
    loader = CountingLoader()
    cache = ModelCache(
        loader, budget_bytes=2 * UNIT_BYTES, offload_device="cpu", offload_budget_bytes=UNIT_BYTES
    )
    cache.get(spec("a"))
    cache.get(spec("b"))
    cache.get(spec("c"))  # a -> RAM (room for one)
    assert ("offload", "blob:a") in cache.events
    cache.get(spec("d"))  # b must go, RAM is full -> dropped
    assert ("drop", "blob:b") in cache.events
    assert cache.offloaded_bytes() == UNIT_BYTES
    assert cache.device_bytes() == 2 * UNIT_BYTES

    calls_before = list(loader.calls)
    cache.get(spec("a"))  # back from RAM: a hit, no load
    assert loader.calls == calls_before
    assert ("restore", "blob:a") in cache.events
    assert cache.device_bytes() <= 2 * UNIT_BYTES


def test_a_model_in_use_is_never_evicted():
    cache = ModelCache(CountingLoader(), budget_bytes=2 * UNIT_BYTES)
    with cache.use(spec("a")) as model_a:
        cache.get(spec("b"))
        cache.get(spec("c"))  # must evict b, not the pinned a
        assert cache.contains(spec("a"))
        assert not cache.contains(spec("b"))
        with cache.use(spec("c")):
            with pytest.raises(OutOfMemory, match="in use right now"):
                cache.get(spec("d"))  # everything on the device is pinned
        assert model_a.weights.numel() == UNIT
    cache.get(spec("d"))  # a is released now and can go
    assert not cache.contains(spec("a"))


def test_a_model_larger_than_the_budget_is_refused_clearly():
    cache = ModelCache(CountingLoader(), budget_bytes=UNIT_BYTES)
    with pytest.raises(OutOfMemory, match="needs .* budget"):
        cache.get(spec("huge:5"))
    assert cache.stats()["models"] == []


def test_concurrent_gets_of_one_spec_load_it_once():
    loader = CountingLoader(delay=0.3)
    cache = ModelCache(loader)
    results, errors = [], []

    def worker():
        try:
            results.append(cache.get(spec("a")))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert loader.calls == ["a"]
    assert all(r is results[0] for r in results)
    assert (cache.hits, cache.misses) == (7, 1)


def test_different_specs_load_in_parallel():
    loader = CountingLoader(delay=0.5)
    cache = ModelCache(loader)
    started = time.perf_counter()
    threads = [threading.Thread(target=cache.get, args=(spec(n),)) for n in "abcd"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Serialised loads would take 2 s; one global load lock would be a regression.
    assert time.perf_counter() - started < 1.5
    assert sorted(loader.calls) == list("abcd")


def test_a_failed_load_leaves_nothing_behind_and_can_be_retried():
    attempts = []

    def flaky(spec_):
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("disk hiccup")
        return Blob(1)

    cache = ModelCache(flaky)
    with pytest.raises(OSError):
        cache.get(spec("a"))
    assert not cache.contains(spec("a"))
    assert cache.get(spec("a")) is not None
    assert cache.misses == 2


def test_free_one_and_free_all_keep_models_in_use():
    cache = ModelCache(CountingLoader())
    cache.get(spec("a"))
    cache.get(spec("b"))
    with cache.use(spec("c")):
        assert cache.free(spec("a")) is True
        assert cache.free(spec("c")) is False
        assert cache.free_all() == 1  # b
        assert loaded(cache) == ["c"]
    assert cache.free_all() == 1


def test_cuda_oom_frees_idle_models_and_retries_once():
    cache = ModelCache(CountingLoader())
    cache.get(spec("idle"))
    failures = []

    def work():
        if not failures:
            failures.append(1)
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")
        return "ok"

    assert cache.run(work) == "ok"
    assert not cache.contains(spec("idle"))

    def always_oom():
        raise torch.cuda.OutOfMemoryError("CUDA out of memory")

    with pytest.raises(OutOfMemory, match="ran out of memory"):
        cache.run(always_oom)


def test_placement_is_resolved_lazily_once():
    calls = []

    def placement():
        calls.append(1)
        return {"device": "cpu", "budget_bytes": 5 * UNIT_BYTES}

    cache = ModelCache(CountingLoader(), placement=placement)
    assert calls == []  # nothing resolved at construction: keeps torch off the start-up path
    cache.get(spec("a"))
    cache.get(spec("b"))
    assert calls == [1]
    assert cache.budget_bytes == 5 * UNIT_BYTES


def test_size_counts_shared_tensors_once():
    linear = torch.nn.Linear(10, 10)
    tied = torch.nn.ModuleDict({"a": linear, "b": linear})
    assert size_of(tied) == size_of(linear) == (10 * 10 + 10) * 4


def test_tiny_transformers_model_through_the_real_cache(studio_ctx):
    cache = studio_ctx.cache
    text_spec = studio_ctx.spec("text", "openai-community/gpt2")
    misses = cache.misses
    first = cache.get(text_spec)
    loads = [e for e in cache.events if e[0] == "load"]
    second = cache.get(text_spec)
    assert second is first
    assert [e for e in cache.events if e[0] == "load"] == loads  # the hit loaded nothing
    assert cache.misses == misses + 1
    expected = sum(p.numel() * p.element_size() for p in first.model.parameters()) + sum(
        b.numel() * b.element_size() for b in first.model.buffers()
    )
    assert size_of(first) <= expected  # tied embeddings counted once
    assert size_of(first) > 0
    entry = next(m for m in cache.stats()["models"] if m["model"] == "tiny:gpt2")
    assert entry["load_seconds"] > 0 and entry["size_bytes"] == size_of(first)


def test_weightless_entries_are_not_evicted_for_room_but_are_bounded_in_number():
    def loader(spec_):
        return Blob(1) if spec_.source.startswith("model") else object()  # object(): a tokenizer

    cache = ModelCache(loader, budget_bytes=UNIT_BYTES, offload_device="cpu",
                       offload_budget_bytes=10 * UNIT_BYTES, max_entries=4)
    cache.get(spec("tokenizer-1"))
    cache.get(spec("model-a"))
    cache.get(spec("model-b"))  # needs room: model-a goes, the tokenizer is not "offloaded"
    assert ("offload", "blob:tokenizer-1") not in cache.events
    assert ("offload", "blob:model-a") in cache.events
    for n in range(2, 6):
        cache.get(spec(f"tokenizer-{n}"))
    assert len(cache.stats()["models"]) == 4  # least recently used idle ones dropped
    assert not cache.contains(spec("tokenizer-1"))
    assert cache.contains(spec("tokenizer-5"))


class SlowToDevice(Blob):
    """A model whose move to the device takes a while, like gigabytes over PCIe."""

    def to(self, *args, **kwargs):
        time.sleep(1.0)
        return super().to(*args, **kwargs)


def test_moving_one_model_to_the_device_does_not_block_the_others():
    loader = CountingLoader()
    cache = ModelCache(lambda s: SlowToDevice(1) if s.source == "slow" else loader(s))
    cache.get(spec("fast"))
    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get(spec("slow")))) for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)  # the first caller is now moving "slow"
    started = time.perf_counter()
    cache.get(spec("fast"))
    cache.stats()
    assert time.perf_counter() - started < 0.5  # neither waited for the move
    for thread in threads:
        thread.join()
    assert results[0] is results[1]  # the second caller waited for the placement, then hit
    assert [e for e in cache.events if e == ("load", "blob:slow")] == [("load", "blob:slow")]
    slow = next(m for m in cache.stats()["models"] if m["model"] == "slow")
    assert slow["load_seconds"] >= 1.0 and slow["in_use"] == 0


def test_a_failed_move_leaves_nothing_pinned_or_half_placed():
    class Broken(Blob):
        def to(self, *args, **kwargs):
            raise RuntimeError("device lost")

    cache = ModelCache(lambda s: Broken(1))
    with pytest.raises(RuntimeError, match="device lost"):
        cache.get(spec("a"))
    assert cache.stats()["models"] == [] and cache.device_bytes() == 0


class RecordingMover:
    """Moves nothing for real: records each move, slow (or failing) on the way to RAM."""

    def __init__(self, to_ram_seconds: float = 0.0, fail_to_ram: bool = False):
        self.to_ram_seconds = to_ram_seconds
        self.fail_to_ram = fail_to_ram
        self.moves: list[tuple[int, str, str]] = []  # (id of the model, device, "start"|"end")
        self._lock = threading.Lock()

    def __call__(self, value, device: str) -> None:
        with self._lock:
            self.moves.append((id(value), device, "start"))
        if device == "ram":
            time.sleep(self.to_ram_seconds)
            if self.fail_to_ram:
                raise RuntimeError("out of host memory")
        with self._lock:
            self.moves.append((id(value), device, "end"))


def gpu_cache(mover: RecordingMover, **kwargs) -> ModelCache:
    """A cache whose 'gpu' holds two unit models and whose 'ram' holds plenty."""
    return ModelCache(CountingLoader(), device="gpu", budget_bytes=2 * UNIT_BYTES, offload_device="ram",
                      offload_budget_bytes=10 * UNIT_BYTES, mover=mover, **kwargs)


def test_offloading_to_ram_does_not_block_a_hit_on_another_model():
    mover = RecordingMover(to_ram_seconds=1.5)
    cache = gpu_cache(mover)
    cache.get(spec("a"))
    cache.get(spec("b"))
    loader = threading.Thread(target=cache.get, args=(spec("c"),))  # evicts a: a slow move to RAM
    loader.start()
    while not any(device == "ram" for _, device, _ in mover.moves):
        time.sleep(0.01)
    started = time.perf_counter()
    hit = cache.get(spec("b"))
    cache.stats()
    assert time.perf_counter() - started < 1.0  # answered within a second, not after the move
    assert hit is not None and any(m["state"] == "offloading" for m in cache.stats()["models"])
    loader.join()
    assert ("offload", "blob:a") in cache.events and cache.contains(spec("c"))
    assert [m["state"] for m in cache.stats()["models"]] == ["ready", "ready", "offloaded"]


def test_a_model_being_offloaded_is_restored_only_after_its_move_finished():
    mover = RecordingMover(to_ram_seconds=0.5)
    cache = gpu_cache(mover)
    a = cache.get(spec("a"))
    cache.get(spec("b"))
    loader = threading.Thread(target=cache.get, args=(spec("c"),))
    loader.start()
    while not any(device == "ram" for _, device, _ in mover.moves):
        time.sleep(0.01)
    assert cache.get(spec("a")) is a  # waits for a to reach RAM, then brings it back: no reload
    loader.join()
    moves_of_a = [(device, step) for model, device, step in mover.moves if model == id(a)]
    assert moves_of_a == [("gpu", "start"), ("gpu", "end"), ("ram", "start"), ("ram", "end"),
                          ("gpu", "start"), ("gpu", "end")]  # never two moves of a at once
    assert cache.events.count(("restore", "blob:a")) == 1
    assert cache.device_bytes() <= 2 * UNIT_BYTES


def test_a_failed_offload_drops_that_model_and_the_new_one_still_loads():
    cache = gpu_cache(RecordingMover(fail_to_ram=True))
    cache.get(spec("a"))
    cache.get(spec("b"))
    assert cache.get(spec("c")) is not None
    assert not cache.contains(spec("a")) and ("drop", "blob:a") in cache.events
    assert cache.offloaded_bytes() == 0 and cache.device_bytes() == 2 * UNIT_BYTES
    assert cache.get(spec("a")) is not None  # loads again from scratch, nothing left locked


def test_nothing_is_evicted_when_the_new_model_cannot_fit_anyway():
    mover = RecordingMover()
    cache = gpu_cache(mover)
    cache.get(spec("a"))
    with cache.use(spec("b")):
        with pytest.raises(OutOfMemory, match="in use right now"):
            cache.get(spec("big:2"))  # would need b's room too, and b is in use
    assert cache.contains(spec("a")) and not any(device == "ram" for _, device, _ in mover.moves)
    assert [m["state"] for m in cache.stats()["models"]] == ["ready", "ready"]


def test_the_event_log_keeps_only_the_most_recent_events():
    cache = ModelCache(lambda s: object(), max_entries=4)
    for n in range(1500):
        cache.get(spec(f"tokenizer-{n}"))
    assert len(cache.events) == cache.events.maxlen == 1000
    assert cache.events[-1] == ("load", "blob:tokenizer-1499")


def test_the_models_report_names_each_component_and_draws_memory_as_figures(studio_ctx):
    from studio import cache_report as report
    from tabs.i18n import Translator
    from tabs.models import memory_html

    studio_ctx.cache.get(studio_ctx.spec("text", "openai-community/gpt2"))
    status = report.status(studio_ctx)
    gpt2 = next(m for m in status["models"] if m["model"] == "tiny:gpt2")
    assert (gpt2["name"], gpt2["component"], gpt2["state"]) == ("text", "causal_lm", "ready")
    models_bar = status["memory_bars"][0]
    assert models_bar["name"] == "models" and models_bar["used_gb"] == status["used_gb"]

    bars = [{"name": "models", "device": "cuda", "used_gb": 3.2, "limit_gb": 12.0},
            {"name": "offloaded", "device": "cpu", "used_gb": 0.25, "limit_gb": None},
            {"name": "ram", "device": "cpu", "used_gb": 30.0, "limit_gb": 32.0, "process_gb": 5.5}]
    english = memory_html(bars, lambda key: Translator.text(key, "en"))
    assert "3.2 / 12.0 GB" in english and "Models on cuda" in english
    assert "0.25 GB (no limit)" in english and "this app: 5.5 GB" in english
    assert "width:26.7%" in english and "width:93.8%" in english  # the bars are drawn to scale
    chinese = memory_html(bars, lambda key: Translator.text(key, "zh-TW"))
    assert "3.2 / 12.0 GB" in chinese and "cuda 上的模型" in chinese and "不設上限" in chinese
