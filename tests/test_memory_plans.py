"""Memory plans: the plan each budget gets, offloaded runs on the tiny twins (same pixels,
within budget), the cache's RAM pins for them, and the planning command's targets."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest
import torch

from studio.context import StudioContext
from studio.errors import OutOfMemory
from studio.faces.samples import draw_faces
from studio.image import checkpoints, memory, placement
from studio.image.generate import generate_images
from studio.image.request import ImageRequest, checked
from studio.models import plans
from studio.models.cache import ModelCache, size_of
from studio.models.specs import ModelSpec
from studio.settings import load_settings, with_overrides

MB = 1024**2
SDXL = "stabilityai/stable-diffusion-xl-base-1.0"
ZIMAGE = "Tongyi-MAI/Z-Image-Turbo"

# -- choosing ---------------------------------------------------------------------------------

FOOTPRINT = plans.Footprint(
    parts={"text_encoder": 2 * MB, "unet": 10 * MB, "vae": 1 * MB},
    stages=(plans.Stage("text", ("text_encoder",), 1 * MB),
            plans.Stage("denoise", ("unet",), 2 * MB),
            plans.Stage("decode", ("vae",), 6 * MB, tiled_working_bytes=1 * MB)),
    largest_layer={"text_encoder": MB // 4, "unet": MB // 2, "vae": MB // 8},
    fp8_parts=("unet",),
)


@pytest.mark.parametrize("budget_mb, plan, tiled", [
    (100, plans.WHOLE, False),  # 13 MB of weights + 6 MB decode = 19
    (16, plans.WHOLE, True),  # whole with a tiled decode: 13 + 2
    (12.5, plans.MODEL_OFFLOAD, False),  # the denoise stage: 10 + 2
    (8, plans.BLOCK_OFFLOAD, False),  # two layers of each part at a time plus working memory: 6.25
    (4, plans.BLOCK_OFFLOAD, True),  # and the decode in tiles: 3
])
def test_the_cheapest_plan_that_fits_each_budget(budget_mb, plan, tiled):
    chosen = plans.choose(FOOTPRINT, int(budget_mb * MB))
    assert (chosen.name, chosen.vae_tiling, chosen.fits) == (plan, tiled, True)
    assert chosen.peak_bytes <= budget_mb * MB
    assert chosen.peak_bytes == plans.peak(FOOTPRINT, plan, tiled)


def test_fp8_storage_is_tried_before_block_offload_only_when_allowed():
    budget = int(7.5 * MB)  # model offload needs 12 MB; with the UNet in fp8, 5 + 2 = 7
    assert plans.choose(FOOTPRINT, budget).name == plans.BLOCK_OFFLOAD
    chosen = plans.choose(FOOTPRINT, budget, allow_fp8=True)
    assert (chosen.name, chosen.fp8_storage) == (plans.MODEL_OFFLOAD, True)
    assert "fp8 storage" in chosen.note() and chosen.slowdown > plans.SLOWDOWN[plans.MODEL_OFFLOAD]


def test_refused_only_when_even_the_smallest_plan_does_not_fit_with_the_numbers():
    chosen = plans.choose(FOOTPRINT, int(1.5 * MB))
    assert not chosen.fits and chosen.name == plans.BLOCK_OFFLOAD
    assert "block offload" in chosen.reason and "1.5 MB budget" in chosen.reason
    short_of_ram = plans.choose(FOOTPRINT, int(12.5 * MB), ram_bytes=5 * MB)
    assert not short_of_ram.fits and "RAM" in short_of_ram.reason and "13.0 MB" in short_of_ram.reason


def test_no_budget_is_whole_and_the_note_says_how_much_slower():
    assert plans.choose(FOOTPRINT, None).name == plans.WHOLE
    note = plans.choose(FOOTPRINT, int(12.5 * MB)).note()
    assert note.startswith("model offload: about 1.3× slower") and "12.5 MB" in note


# -- the planning command: the targets of full-size models at 1024², bf16 ---------------------


@pytest.mark.parametrize("args, plan", [
    (["--checkpoint", SDXL, "--budget-gb", "6"], plans.MODEL_OFFLOAD),
    (["--checkpoint", SDXL, "--budget-gb", "8", "--image-prompts", "PyraCanny,CPDS,ImagePrompt"], plans.BLOCK_OFFLOAD),
    (["--checkpoint", ZIMAGE, "--budget-gb", "16"], plans.MODEL_OFFLOAD),
    (["--checkpoint", ZIMAGE, "--budget-gb", "12", "--fp8-storage"], None),
    (["--checkpoint", SDXL, "--budget-gb", "24"], plans.WHOLE),
])
def test_memory_plan_command_fits_the_targets(capsys, args, plan):
    from studio import memory_plan

    assert memory_plan.main(args + ["--width", "1024", "--height", "1024"]) == 0
    line = json.loads(capsys.readouterr().out.strip())
    assert line["fits"] is True and line["peak_gb"] <= line["budget_gb"]
    assert plan is None or line["offload"] == plan
    assert {"plan", "peak_gb", "fits", "peaks_gb", "parts_gb"} <= set(line)


def test_memory_plan_command_counts_the_published_sizes(capsys):
    from studio import memory_plan

    memory_plan.main(["--checkpoint", "sdxl", "--budget-gb", "4"])
    parts = json.loads(capsys.readouterr().out)["parts_gb"]
    # SDXL's UNet has 2.567 B parameters: 4.78 GiB in bf16; its two text encoders 0.82 B.
    assert parts["unet"] == pytest.approx(4.782, abs=0.01)
    assert parts["text_encoder"] + parts["text_encoder_2"] == pytest.approx(1.52, abs=0.01)


def test_memory_plan_command_refuses_an_unknown_checkpoint_in_one_line(capsys):
    from studio import memory_plan

    with pytest.raises(SystemExit):
        memory_plan.main(["--checkpoint", "nobody/nothing", "--budget-gb", "8"])
    assert "Unknown model family" in capsys.readouterr().err


# -- offloaded runs of the tiny twins ------------------------------------------------------------


@pytest.fixture(scope="module")
def plan_ctx(tiny_cache_dir, tmp_path_factory):
    settings = load_settings(["--profile", "tiny", "--cache-dir", str(tiny_cache_dir),
                              "--outputs", str(tmp_path_factory.mktemp("outputs"))], env={})
    return StudioContext(settings)


def request(checkpoint: str, **fields) -> ImageRequest:
    return ImageRequest(prompt="a red fox", checkpoint=checkpoint, width=256, height=256, steps=2, seed=5, **fields)


def peaks(ctx, checkpoint: str, req: ImageRequest) -> dict[str, int]:
    spec = checkpoints.spec(ctx, checkpoint)
    with ctx.cache.use(spec, where="any") as model:
        modules = placement.task_modules(model.family, model.pipeline, "txt2img")
        guidance = model.family.guidance_active(req.cfg if req.cfg is not None else model.family.defaults.cfg)
        footprint = memory.footprint(model.family, modules, req.width, req.height, guidance)
    return {name: plans.peak(footprint, name) for name in plans.SLOWDOWN}


def draw(ctx, req, task=None):
    return generate_images(ctx, req, None, task)[0]


def close_pixels(a, b) -> None:
    """The same picture: a CPU kernel may round a last float bit differently once weights have
    moved (whole-on-device runs differ so too after an offloaded one), never more than 1 of 255."""
    a, b = (np.asarray(x.image.convert("RGB"), dtype=np.int16) for x in (a, b))
    assert np.abs(a - b).max() <= 1 and (a == b).mean() > 0.99


@pytest.mark.parametrize("checkpoint", [SDXL, ZIMAGE])
def test_an_offloaded_twin_draws_the_same_pixels_as_whole_on_device(plan_ctx, checkpoint):
    req = request(checkpoint)
    cache = plan_ctx.cache
    cache._budget_bytes = None
    whole = draw(plan_ctx, req)
    spec = checkpoints.spec(plan_ctx, checkpoint)
    assert cache.where(spec) == "device" and not any("Memory plan" in n for n in whole.notes)
    budgets = peaks(plan_ctx, checkpoint, req)
    try:
        for name in (plans.MODEL_OFFLOAD, plans.BLOCK_OFFLOAD):
            cache._budget_bytes = budgets[name]
            result = draw(plan_ctx, req)
            close_pixels(result, whole)
            assert any(n.startswith(f"Memory plan: {name}") for n in result.notes), result.notes
            assert cache.where(spec) == "host" and cache.reserved_bytes() == 0
            entry = next(m for m in cache.stats()["models"] if m["key"] == list(spec.key))
            assert entry["plan"].startswith(name) and "slower" in entry["plan"]
            # Every hook is off again: the cached modules run as plain modules.
            unet_or_transformer = next(m for n, m in entry_modules(plan_ctx, spec).items() if n in memory.DENOISERS)
            assert not hasattr(unet_or_transformer, "_hf_hook")
            assert getattr(unet_or_transformer, "_diffusers_hook", None) is None or \
                unet_or_transformer._diffusers_hook.get_hook("group_offloading") is None
    finally:
        cache._budget_bytes = None
    close_pixels(draw(plan_ctx, req), whole)  # and back on the device whole, as before
    assert cache.where(spec) == "device"


def entry_modules(ctx, spec):
    with ctx.cache.use(spec, where="any") as model:
        return memory.pipeline_modules(model.pipeline)


class Recorder:
    """A Task stand-in that reads the cache's books at every step."""

    def __init__(self, cache):
        self.cache, self.device, self.reserved = cache, [], []

    def step(self, step, total, label="", preview=None):
        self.device.append(self.cache.device_bytes())
        self.reserved.append(self.cache.reserved_bytes())

    def check_cancelled(self):
        pass

    def deliver(self, item):
        pass


def test_offloaded_runs_keep_the_books_within_budget_next_to_other_models(tiny_cache_dir, tmp_path):
    """Text LLM, then an image checkpoint too big to be whole, then Describe, then the LLM again:
    no refusal; the idle LLM is evicted for the run; the cache never counts more than its budget."""
    from studio.prompts import describe
    from studio.text.generate import generate_text
    from studio.text.results import GenerationRequest
    from studio.text.sampling import SamplingSettings

    settings = load_settings(["--profile", "tiny", "--cache-dir", str(tiny_cache_dir),
                              "--outputs", str(tmp_path)], env={})
    ctx = StudioContext(settings)
    req = request(SDXL)
    budget = peaks(ctx, SDXL, req)[plans.MODEL_OFFLOAD]
    ctx.cache._budget_bytes = budget
    text = GenerationRequest("Hello", "completion", settings=SamplingSettings(decoding="greedy", max_new_tokens=4))
    first = generate_text(ctx, text).text
    text_spec = ctx.spec("text")
    assert ctx.cache.where(text_spec) == "device"
    recorder = Recorder(ctx.cache)
    result = draw(ctx, req, recorder)
    assert any(n.startswith("Memory plan: model offload") for n in result.notes)
    assert recorder.reserved and min(recorder.reserved) > 0
    assert max(recorder.device) <= budget
    assert ctx.cache.where(text_spec) is None or ctx.cache.where(text_spec) == "host"  # made room for the run
    from PIL import Image

    describe.describe(ctx, Image.new("RGB", (64, 64), "red"))
    assert generate_text(ctx, text).text == first  # the LLM again, the same greedy answer
    assert ctx.cache.device_bytes() <= budget and ctx.cache.reserved_bytes() == 0


def test_fp8_storage_when_opted_in_halves_the_denoiser_and_still_draws(tiny_cache_dir, tmp_path, monkeypatch):
    # The twins' weights are tiny next to their working memory; count little of it, so that the
    # weights decide here as they do at full size.
    monkeypatch.setattr(memory, "VAE_LIVE_MAPS", 0.1)
    monkeypatch.setattr(memory, "UNET_LIVE_MAPS", 1)
    settings = with_overrides(load_settings(["--profile", "tiny", "--cache-dir", str(tiny_cache_dir),
                                             "--outputs", str(tmp_path)], env={}), fp8_storage=True)
    ctx = StudioContext(settings)
    req = request(SDXL)
    spec = checkpoints.spec(ctx, SDXL)
    with ctx.cache.use(spec, where="any") as model:
        modules = placement.task_modules(model.family, model.pipeline, "txt2img")
        footprint = memory.footprint(model.family, modules, 256, 256, True, fp8_allowed=True)
        unet_bytes = size_of(model.pipeline.unet)
    # Too small for model offload in full precision; model offload with the UNet in fp8 fits.
    ctx.cache._budget_bytes = plans.peak(footprint, plans.MODEL_OFFLOAD, fp8=True)
    assert plans.peak(footprint, plans.MODEL_OFFLOAD) > ctx.cache._budget_bytes
    result = draw(ctx, req)
    assert any("fp8 storage" in n for n in result.notes), result.notes
    with ctx.cache.use(spec, where="any") as model:
        assert any(t.dtype == torch.float8_e4m3fn for t in model.pipeline.unet.parameters())
        assert size_of(model.pipeline.unet) < 0.6 * unet_bytes
    assert np.asarray(result.image).std() > 0  # a picture, not a blank


def test_a_plan_reads_the_checkpoint_as_measured_at_load_never_walking_the_shared_modules(plan_ctx, monkeypatch):
    """Another request may be adding IP-Adapter layers to the shared UNet while a plan is made:
    a walk of it then fails ("dictionary changed size during iteration", seen in CI) or counts
    those layers twice."""
    spec = checkpoints.spec(plan_ctx, SDXL)
    with plan_ctx.cache.use(spec, where="any") as model:
        assert model.measures["unet"].bytes == size_of(model.pipeline.unet)
        shared = {id(m) for m in memory.pipeline_modules(model.pipeline).values()}
    walked: list[int] = []
    real_measure = memory.measure
    monkeypatch.setattr(memory, "measure", lambda module: walked.append(id(module)) or real_measure(module))
    with plan_ctx.cache.use(spec, where="any") as model:
        chosen = placement.choose(plan_ctx, model, request(SDXL), 256, 256, 2, True)
        face = draw_faces((256, 256), ((128, 128),), radius=55, seed=3)
        with_prompt = checked(request(SDXL, image_prompts=[{"image": face, "type": "ImagePrompt"}]))
        placement.choose(plan_ctx, model, with_prompt, 256, 256, 2, True)
    assert chosen.fits
    assert walked and not shared & set(walked)  # only the image prompt's own models were measured


def test_overlapping_tiled_runs_give_the_shared_vae_its_settings_back_once_the_last_ends(plan_ctx):
    spec = checkpoints.spec(plan_ctx, SDXL)
    tiled = plans.MemoryPlan(plans.WHOLE, 0, None, vae_tiling=True)
    with plan_ctx.cache.use(spec, where="any") as model:
        vae = model.pipeline.vae
        own = (vae.use_tiling, vae.tile_sample_min_size)
        first, second = memory.running(model.pipeline, tiled, "cpu"), memory.running(model.pipeline, tiled, "cpu")
        first.__enter__()
        second.__enter__()  # saw the first's tiling switched on; must not keep it as the VAE's own
        first.__exit__(None, None, None)
        assert (vae.use_tiling, vae.tile_sample_min_size) == (True, memory.VAE_TILE)  # the second still decodes
        second.__exit__(None, None, None)
        assert (vae.use_tiling, vae.tile_sample_min_size) == own


def test_a_request_that_fits_no_plan_is_refused_with_the_numbers(plan_ctx):
    plan_ctx.cache._budget_bytes = 1024
    try:
        with pytest.raises(OutOfMemory, match="block offload.*budget"):
            draw(plan_ctx, request(SDXL))
    finally:
        plan_ctx.cache._budget_bytes = None


# -- the cache's RAM pins ------------------------------------------------------------------------


class Blob(torch.nn.Module):
    def __init__(self, size: int):
        super().__init__()
        self.register_buffer("weights", torch.zeros(size))


def blob_cache(**kwargs) -> ModelCache:
    return ModelCache(lambda spec: Blob(1000), **kwargs)


def test_a_host_pin_is_for_one_request_and_others_wait_for_it():
    cache = blob_cache(budget_bytes=10_000)
    spec = ModelSpec(kind="blob", source="a")
    order = []
    with cache.use(spec, where="host"):
        assert cache.where(spec) == "host" and cache.device_bytes() == 0

        def other():
            with cache.use(spec):
                order.append("other")

        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(0.2)
        order.append("host done")
    thread.join(timeout=10)
    assert order == ["host done", "other"]
    assert cache.where(spec) == "device"  # the other request brought it back whole


def test_a_model_on_the_device_moves_to_ram_once_its_other_user_lets_go():
    cache = blob_cache(budget_bytes=10_000)
    spec = ModelSpec(kind="blob", source="a")
    got = []
    with cache.use(spec):
        thread = threading.Thread(target=lambda: got.append(cache.use(spec, where="host").__enter__()))
        thread.start()
        time.sleep(0.2)
        assert not got  # waits while the device user is inside
    thread.join(timeout=10)
    assert got and cache.where(spec) == "host"


def test_a_look_loads_into_ram_and_moves_nothing_and_is_not_a_hit():
    cache = blob_cache(budget_bytes=10_000)
    spec = ModelSpec(kind="blob", source="a")
    with cache.use(spec, where="any"):
        pass
    assert cache.where(spec) == "host" and cache.device_bytes() == 0 and (cache.hits, cache.misses) == (0, 1)
    with cache.use(spec):
        assert cache.where(spec) == "device"
    assert cache.hits == 1


def test_a_reservation_evicts_idle_models_and_is_counted_while_held():
    cache = blob_cache(budget_bytes=10_000)
    idle = ModelSpec(kind="blob", source="idle")
    cache.get(idle)  # 4000 bytes on the device
    with cache.reserve(8_000, "run"):
        assert cache.device_bytes() == 8_000 and cache.where(idle) is None
        assert cache.stats()["reserved_bytes"] == 8_000
    assert cache.device_bytes() == 0
    with pytest.raises(OutOfMemory):
        with cache.reserve(20_000, "too big"):
            pass


# -- every family, with every image prompt it offers, in every dtype the studio accepts ------------

SD15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"
FAMILY_PROMPTS = {SDXL: ("PyraCanny", "CPDS", "ImagePrompt", "FaceSwap"), SD15: ("PyraCanny", "CPDS", "ImagePrompt", "FaceSwap"),
                  ZIMAGE: ("CPDS",)}  # Z-Image's union ControlNet reads one map at a time


@pytest.mark.parametrize("dtype", ["fp16", "bf16", "fp32", "auto"])
def test_every_family_and_image_prompt_runs_a_step_in_every_dtype(tiny_cache_dir, tmp_path, dtype, monkeypatch):
    """Loaded in the studio's dtype and run for one step on the CPU: no dtype mismatch between a
    checkpoint and its ControlNets / adapters. "auto" is run as a GPU without bf16 reports it
    (fp16 asked for; Z-Image then falls back to fp32 for its transformer and union ControlNet)."""
    from studio.faces.samples import draw_faces

    if dtype == "auto":
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
        dtype = "fp16"
    settings = load_settings(["--profile", "tiny", "--cache-dir", str(tiny_cache_dir), "--outputs", str(tmp_path),
                              "--dtype", dtype], env={})
    ctx = StudioContext(settings)
    face = draw_faces((256, 256), ((128, 128),), radius=55, seed=3)
    for checkpoint, kinds in FAMILY_PROMPTS.items():
        slots = tuple({"image": face, "type": kind, "weight": 0.8, "stop_at": 1.0} for kind in kinds)
        result = draw(ctx, ImageRequest(prompt="a face", checkpoint=checkpoint, width=256, height=256, steps=1,
                                        seed=1, image_prompts=slots))
        assert result.steps_run == 1 and result.image.size == (256, 256), (checkpoint, dtype)
        ctx.cache.free_all()


# -- what a first click downloads ------------------------------------------------------------------


@pytest.mark.parametrize("entry, model_id", [
    ("image", SDXL), ("image", SD15),
    ("controlnet_canny", "diffusers/controlnet-canny-sdxl-1.0"), ("controlnet_cpds", "diffusers/controlnet-depth-sdxl-1.0"),
])
def test_the_fp16_variant_files_are_fetched_where_the_repo_has_them(entry, model_id):
    from studio.models import catalog

    standard = load_settings([], env={})
    assert catalog.spec_for(standard, entry, model_id).variant == "fp16"
    assert catalog.spec_for(with_overrides(standard, dtype="fp32"), entry, model_id).variant is None  # full precision
    tiny = load_settings(["--profile", "tiny"], env={})
    assert catalog.spec_for(tiny, entry, model_id).variant is None  # a twin has no variant files
    assert catalog.spec_for(standard, "image", ZIMAGE).variant is None  # bf16 only: no variant published


def test_sd15_is_loaded_without_its_safety_checker():
    from studio.image.families import FAMILIES

    assert FAMILIES["sd15"].load_extras == {"safety_checker": None, "requires_safety_checker": False}


def test_the_models_tab_shows_each_entrys_memory_plan(plan_ctx):
    from studio import cache_report as report
    from tabs.models import COLUMNS, table_rows

    plan_ctx.cache._budget_bytes = peaks(plan_ctx, SDXL, request(SDXL))[plans.MODEL_OFFLOAD]
    try:
        draw(plan_ctx, request(SDXL))
    finally:
        plan_ctx.cache._budget_bytes = None
    status = report.status(plan_ctx)
    image = next(m for m in status["models"] if m["name"] == "image" and m["model"] == "tiny:sdxl")
    assert image["plan"].startswith("model offload: about 1.3× slower")
    row = next(r for r in table_rows(status) if r[COLUMNS.index("plan")] == image["plan"])
    assert row[COLUMNS.index("name")] == "image"


def test_the_gpu_benchmark_runs_dry_on_the_cpu(tiny_cache_dir):
    """benchmarks/gpu.py --dry-run: the code a lent GPU runs, on the twins, every plan of both families."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "benchmarks/gpu.py", "--dry-run", "--cache-dir", str(tiny_cache_dir)],
                          cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in done.stdout.splitlines() if "s/step" in line]
    assert len(lines) == 6 and all("ratio" in line and "peak estimated" in line for line in lines)
    assert sum("cache turn" in line for line in done.stdout.splitlines()) == 2
