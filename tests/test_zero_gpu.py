"""A ZeroGPU Space: every GPU function goes through the real ``spaces.GPU`` with a duration
function; the seconds asked for follow the request; the budget is the slice; the default
models are loaded before the first call.

ZeroGPU's own wrapper needs a CUDA build of torch (it patches CUDA at import), which CI lacks;
so ``spaces.GPU`` is watched (each call recorded, then passed to the real decorator, which
checks its arguments) rather than replaced."""

from __future__ import annotations

import inspect
from types import SimpleNamespace

import pytest
import spaces
import torch

from studio import devices, zero_gpu
from studio.context import StudioContext
from studio.image import gpu_seconds
from studio.image.families import FAMILIES
from studio.image.request import ImageRequest
from studio.settings import load_settings


@pytest.fixture
def on_zero_gpu(monkeypatch):
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    decorated: dict[str, object] = {}
    real_gpu = spaces.GPU

    def watched(task, **options):
        decorated[task.__name__] = options["duration"]
        return real_gpu(task, **options)

    monkeypatch.setattr(spaces, "GPU", watched)
    return decorated


@pytest.fixture(scope="module")
def ctx(tiny_cache_dir, tmp_path_factory):
    settings = load_settings(["--profile", "tiny", "--cache-dir", str(tiny_cache_dir),
                              "--outputs", str(tmp_path_factory.mktemp("outputs"))], env={})
    return StudioContext(settings)


def test_every_gpu_event_of_the_app_asks_zero_gpu_for_a_duration(on_zero_gpu, ctx):
    import tabs

    tabs.build_app(ctx)
    for name in ("generate_image", "ui_generate", "upscale_image", "vary_image", "inpaint_image",
                 "outpaint_image", "ui_upscale_or_vary", "ui_inpaint", "ui_outpaint", "generate", "show_image"):
        assert name in on_zero_gpu, sorted(on_zero_gpu)
    assert on_zero_gpu["show_image"] == zero_gpu.DEFAULT_SECONDS  # a light call asks for little


def test_the_seconds_follow_the_request(on_zero_gpu, ctx):
    import tabs

    tabs.build_app(ctx)
    image = on_zero_gpu["generate_image"]
    one_speed = image("a fox", performance="Speed", aspect_ratio="1024×1024")
    four_quality = image("a fox", performance="Quality", image_number=4, aspect_ratio="1024×1024")
    assert zero_gpu.MIN_SECONDS <= one_speed <= 30  # not minutes of someone's quota
    assert 60 < four_quality <= zero_gpu.MAX_SECONDS  # not cut off at ZeroGPU's 60 s default
    assert image("a fox", performance="Quality", image_number=8, width=2048, height=2048) == zero_gpu.MAX_SECONDS
    expanded = image("一隻狐狸", performance="Speed", aspect_ratio="1024×1024", expand_into_english=True)
    assert expanded > one_speed  # the LLM's expansion runs in the same call
    # A bad request asks for a default; the call itself refuses it with its own sentence.
    assert image("a fox", performance="Sluggish") == image("a fox", performance="Speed")
    assert image("a fox", aspect_ratio="7×3") == zero_gpu.DEFAULT_SECONDS
    assert one_speed == zero_gpu.seconds(gpu_seconds.generation_work(
        ctx, ImageRequest(prompt="a fox", performance="Speed", aspect_ratio="1024×1024")))
    text = on_zero_gpu["generate"]
    assert text(prompt="hi", max_new_tokens=16) < text(prompt="hi", max_new_tokens=1024)


def test_edits_ask_for_the_size_they_draw(on_zero_gpu, ctx, tmp_path):
    from PIL import Image

    import tabs

    tabs.build_app(ctx)
    small, large = tmp_path / "small.png", tmp_path / "large.png"
    Image.new("RGB", (512, 512)).save(small)
    Image.new("RGB", (2048, 2048)).save(large)
    upscale = on_zero_gpu["upscale_image"]
    fast = upscale({"path": str(small)}, mode="Upscale (Fast 2×)")
    refined = upscale({"path": str(small)}, mode="Upscale (2×)")
    assert fast < refined < upscale({"path": str(large)}, mode="Upscale (2×)")
    outpaint = on_zero_gpu["outpaint_image"]
    assert outpaint({"path": str(small)}, left=512, right=512) > outpaint({"path": str(small)}, left=64)


def test_the_estimates_per_family_and_size():
    sdxl, zimage = FAMILIES["sdxl"].step_seconds_per_mp, FAMILIES["zimage"].step_seconds_per_mp
    speed = zero_gpu.image_work(sdxl, 30, 1, 1024, 1024)
    assert zero_gpu.image_work(sdxl, 30, 2, 1024, 1024) == pytest.approx(2 * speed)
    assert zero_gpu.image_work(sdxl, 30, 1, 1024, 1024, controlnets=2) > 1.8 * zero_gpu.image_work(
        sdxl, 30, 1, 1024, 1024) - 1
    assert zero_gpu.image_work(zimage, 8, 1, 1024, 1024) < speed  # Turbo: 8 steps, no CFG
    assert zero_gpu.image_work(None, 30, 1, 1024, 1024) >= speed  # unknown: the slow side
    assert zero_gpu.seconds(0) == zero_gpu.MIN_SECONDS and zero_gpu.seconds(1e6) == zero_gpu.MAX_SECONDS


def test_not_on_zero_gpu_nothing_is_wrapped(monkeypatch):
    from tabs.common import gpu_function

    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    calls = []
    monkeypatch.setattr(spaces, "GPU", lambda *a, **k: calls.append(a))

    def work(values):
        return values

    assert gpu_function(work, lambda named: 1.0)(3) == 3 and not calls


def test_generator_functions_stay_generators_for_zero_gpu(on_zero_gpu):
    from tabs.common import gpu_function

    def stream(values, request=None):
        yield values

    wrapped = gpu_function(stream, lambda named: named["values"])
    assert inspect.isgeneratorfunction(wrapped)  # spaces streams a generator's yields from its worker
    assert on_zero_gpu["stream"](12) == zero_gpu.seconds(12)


def test_the_budget_is_the_slice_spaces_reports(monkeypatch, tiny_settings):
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    slice_bytes = 74_625_056_768  # ZeroGPU's H200 slice, as spaces reports it
    # What spaces' torch patch answers outside a call (there is no real CUDA there).
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda *a, **k: SimpleNamespace(total_memory=slice_bytes))
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *a, **k: (9, 0))
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda *a, **k: pytest.fail("no CUDA outside a ZeroGPU call"))
    assert devices.device_memory("cuda") == {"total": slice_bytes, "free": slice_bytes}
    assert devices.budget_bytes(tiny_settings, "cuda") == int(slice_bytes * 0.85)
    assert devices.resolve_dtype("auto", "cuda") == torch.bfloat16


def test_the_default_models_are_loaded_before_the_first_call(tiny_cache_dir, tmp_path):
    from studio.image.generate import generate_images

    settings = load_settings(["--profile", "tiny", "--cache-dir", str(tiny_cache_dir), "--outputs", str(tmp_path)],
                             env={})
    fresh = StudioContext(settings)
    loaded = fresh.load_at_start()
    assert len(loaded) == 2
    misses = fresh.cache.stats()["misses"]
    generate_images(fresh, ImageRequest(prompt="a fox", width=256, height=256, steps=1, seed=1), None)
    assert fresh.cache.stats()["misses"] == misses  # the checkpoint was there already
