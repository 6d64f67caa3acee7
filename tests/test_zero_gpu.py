"""A ZeroGPU Space, on this machine: every GPU function of the app runs through ZeroGPU's own
fork-and-pickle path (``spaces``' wrappers, with only its scheduler and CUDA patches replaced:
``tabs.zero_gpu_twin``). Arguments and every yielded value cross a pickling queue into a forked
worker, so a value that cannot be pickled fails here as it fails on a Space.

The app is built in this process (``--zero-gpu-emulate on``) and its API functions are called as
Gradio calls them; the worker is a fork of this process, as ZeroGPU's is of the server's. The
page's own events (the components' values) are driven in Chromium (tests/browser/test_zero_gpu_page.py).
"""

from __future__ import annotations

import pickle
import shutil
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from PIL import Image

from studio import devices, zero_gpu
from studio.context import StudioContext
from studio.faces.samples import draw_faces
from studio.image.families import FAMILIES
from studio.progress import CancelFlag
from studio.settings import load_settings


@pytest.fixture(scope="module")
def space(tiny_cache_dir, tmp_path_factory):
    """The app as a Space runs it (models loaded at start-up), and a function calling its API."""
    import tabs

    settings = load_settings(["--profile", "tiny", "--zero-gpu-emulate", "on", "--cache-dir", str(tiny_cache_dir),
                              "--outputs", str(tmp_path_factory.mktemp("outputs"))], env={})
    studio = StudioContext(settings)
    studio.load_at_start()
    demo = tabs.build_app(studio)
    functions = {fn.api_name: fn.fn for fn in demo.fns.values() if fn.api_name}

    def call(api_name: str, **arguments):
        return functions[api_name](**arguments)

    return SimpleNamespace(call=call, studio=studio)


@pytest.fixture(scope="module")
def uploads(tmp_path_factory):
    """Pictures as Gradio holds an upload: in its upload folder (a path elsewhere is refused)."""
    from gradio.utils import get_upload_folder

    folder = Path(get_upload_folder()) / f"zero-gpu-test-{time.monotonic_ns()}"
    folder.mkdir(parents=True)
    photo, faces, target, mask = (folder / name for name in ("photo.png", "faces.png", "target.png", "mask.png"))
    Image.effect_noise((96, 64), 60).convert("RGB").save(photo)
    draw_faces((640, 640), ((320, 320),), seed=1).save(faces)
    draw_faces(seed=2).save(target)
    painted = Image.new("L", (96, 64), 0)
    painted.paste(255, (30, 20, 60, 44))
    painted.save(mask)
    yield SimpleNamespace(photo=str(photo), faces=str(faces), target=str(target), mask=str(mask))
    shutil.rmtree(folder, ignore_errors=True)


QUICK = {"steps": 2, "seed": 3}


def asked(api_name: str, space, **arguments) -> float:
    """Run the call and return the seconds it asked ZeroGPU for."""
    from tabs import zero_gpu_twin

    before = len(zero_gpu_twin.durations)
    space.call(api_name, **arguments)
    assert len(zero_gpu_twin.durations) > before, f"{api_name} did not go through ZeroGPU"
    return zero_gpu_twin.durations[-1]


def test_image_generation_crosses_the_fork(space, uploads):
    answer = space.call("generate_image", prompt="a fox", width=256, height=256, image_number=2,
                        image_prompts=[{"image": {"path": uploads.photo}, "type": "PyraCanny"}], **QUICK)
    assert [image["seed"] for image in answer["images"]] == [3, 4]
    assert all(Path(image["image"].path).is_file() for image in answer["images"])


def test_each_edit_tool_crosses_the_fork(space, uploads):
    photo = {"path": uploads.photo}
    assert space.call("upscale", image=photo, mode="Upscale (Fast 2×)")["width"] == 192
    assert space.call("vary", image=photo, strength="subtle", **QUICK)["width"] == 96
    assert space.call("inpaint", image=photo, mask={"path": uploads.mask}, prompt="a door", **QUICK)["width"] == 96
    assert space.call("outpaint", image=photo, right=32, **QUICK)["width"] == 128


def test_faces_describe_expand_and_tokens_cross_the_fork(space, uploads):
    found = space.call("detect_faces", image={"path": uploads.target}, score_threshold=0.5)
    assert len(found["faces"]) == 3
    swapped = space.call("swap_faces", source_images=[{"path": uploads.faces}], target_image={"path": uploads.target},
                         target_faces="2")
    assert swapped["replaced"] == [2]
    assert isinstance(space.call("describe_image", image=uploads.photo), str)
    assert "english_prompt" in space.call("expand_prompt", text="一隻狐狸", seed=1)
    tokens = space.call("image_tokens", image=uploads.photo, vq_model="amused/amused-256", max_side=64)
    assert tokens[0]["codebook_size"] > 0
    preview = space.call("image_prompt_preview", image={"path": uploads.photo}, type="CPDS")
    assert (preview["width"], preview["height"]) == (96, 64)


def test_text_generation_and_the_explorer_cross_the_fork(space):
    reply = space.call("generate", prompt="Hello", max_new_tokens=6, decoding="greedy")
    assert reply["generated_tokens"] <= 6 and reply["backend"] == "local"
    table = space.call("next_token", prompt="Once upon a time", number_of_candidates=5)
    assert len(table["candidates"]) == 5
    drawn = space.call("sample_next_token", prompt="Once upon a time", seed=2)
    assert drawn["prompt"].startswith("Once upon a time")


def test_the_seconds_asked_follow_the_request(space):
    one_speed = asked("generate_image", space, prompt="a fox", performance="Speed", width=256, height=256, steps=2)
    four = asked("generate_image", space, prompt="a fox", performance="Speed", width=256, height=256, steps=2,
                 image_number=4)
    assert zero_gpu.MIN_SECONDS <= one_speed <= four
    expanded = asked("generate_image", space, prompt="一隻狐狸", performance="Speed", width=256, height=256, steps=2,
                     expand_into_english=True)
    assert expanded > one_speed  # the LLM's expansion runs in the same call
    short = asked("generate", space, prompt="hi", max_new_tokens=8)
    long = asked("generate", space, prompt="hi", max_new_tokens=400)
    assert short < long


def test_a_bad_request_comes_back_as_its_sentence(space):
    import gradio as gr

    with pytest.raises(gr.Error, match="Performance"):
        space.call("generate_image", prompt="a fox", performance="Sluggish")


def test_the_estimates_per_family_and_size():
    sdxl, zimage = FAMILIES["sdxl"].step_seconds_per_mp, FAMILIES["zimage"].step_seconds_per_mp
    speed = zero_gpu.image_work(sdxl, 30, 1, 1024, 1024)
    assert zero_gpu.image_work(sdxl, 30, 2, 1024, 1024) == pytest.approx(2 * speed)
    assert zero_gpu.image_work(zimage, 8, 1, 1024, 1024) < speed  # Turbo: 8 steps, no CFG
    assert zero_gpu.image_work(None, 30, 1, 1024, 1024) >= speed  # unknown: the slow side
    assert zero_gpu.seconds(0) == zero_gpu.MIN_SECONDS and zero_gpu.seconds(1e6) == zero_gpu.MAX_SECONDS


def test_a_cancel_flag_crosses_a_fork_and_is_seen_there():
    """The worker holds a pickled copy of the flag: a press in the server reaches it."""
    import multiprocessing

    flag = CancelFlag()
    copy = pickle.loads(pickle.dumps(flag))
    assert copy.path == flag.path and not copy.is_set()
    seen = multiprocessing.get_context("fork").Queue()

    def worker(sent: bytes) -> None:
        seen.put(pickle.loads(sent).wait(10))

    process = multiprocessing.get_context("fork").Process(target=worker, args=(pickle.dumps(flag),))
    process.start()
    time.sleep(0.2)
    flag.set()
    assert seen.get(timeout=10) is True
    process.join(10)
    flag.end()
    assert not Path(flag.path).exists()


def test_closing_a_stream_stops_the_work_in_the_worker():
    """ZeroGPU stops a generator by closing it: the work in the worker stops at its next step."""
    from tabs import zero_gpu_twin

    from studio.progress import task_events

    def steps(cancel, marker):
        def work(task):
            for i in range(200):
                task.step(i, 200)
                time.sleep(0.02)
            Path(marker).write_text("ran to the end")

        yield from task_events(work, cancel)

    marker = Path(f"/tmp/zero-gpu-test-{time.monotonic_ns()}")
    stream = zero_gpu_twin.gpu(steps, 10)(CancelFlag(), str(marker))
    next(stream)
    stream.close()
    time.sleep(5)
    assert not marker.exists()


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


def test_the_models_tab_reads_a_slice_lent_per_call(monkeypatch, studio_ctx):
    """On ZeroGPU, CUDA "is available" between calls but has nothing to measure: the report
    says the slice's size, never a KeyError on the free memory it cannot know."""
    from studio import cache_report

    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    monkeypatch.setattr(studio_ctx.cache, "stats", lambda real=studio_ctx.cache.stats: {**real(), "device": "cuda"})
    monkeypatch.setattr(devices, "device_memory", lambda device: {"total": 74_625_056_768, "free": 74_625_056_768})
    report = cache_report.status(studio_ctx)
    assert report["memory_gb"]["gpu"]["lent_per_call"] is True
    assert [bar["name"] for bar in report["memory_bars"]][0] == "models"


def test_what_a_space_offers_is_loaded_before_the_first_call(tiny_cache_dir, tmp_path):
    from studio import space_config
    from studio.image.generate import generate_images
    from studio.image.request import ImageRequest

    settings = load_settings(["--profile", "tiny", "--zero-gpu-emulate", "on", "--cache-dir", str(tiny_cache_dir),
                              "--outputs", str(tmp_path)], env={})
    fresh = StudioContext(settings)
    loaded = fresh.load_at_start()
    assert len(loaded) == len(space_config.loaded_at_start())
    misses = fresh.cache.stats()["misses"]
    generate_images(fresh, ImageRequest(prompt="a fox", width=256, height=256, steps=1, seed=1), None)
    assert fresh.cache.stats()["misses"] == misses  # the checkpoint was there already


def test_a_space_offers_only_what_it_preloaded(tiny_cache_dir, tmp_path):
    from studio.errors import BadInput
    from studio.models import catalog

    settings = load_settings(["--profile", "tiny", "--zero-gpu-emulate", "on", "--cache-dir", str(tiny_cache_dir)],
                             env={})
    assert catalog.choices(settings, "image") == list(catalog.entry("image").space)
    assert "black-forest-labs/FLUX.1-schnell" not in catalog.choices(settings, "image")
    with pytest.raises(BadInput, match="not offered on this Space"):
        catalog.spec_for(settings, "image", "black-forest-labs/FLUX.1-schnell")


def test_training_is_refused_under_zero_gpu(tiny_cache_dir):
    from studio.errors import BadInput
    from studio.train import service

    settings = load_settings(["--profile", "tiny", "--zero-gpu-emulate", "on"], env={})
    with pytest.raises(BadInput, match="ZeroGPU"):
        service.check_allowed(settings)


def test_off_zero_gpu_nothing_is_wrapped(tiny_settings):
    from tabs.gpu import for_zero_gpu

    def body(value):
        return value * 2

    ctx = SimpleNamespace(settings=tiny_settings)
    wrapped = for_zero_gpu(ctx, body, lambda named: 1.0)
    assert wrapped(21) == 42 and threading.current_thread() is threading.main_thread()
