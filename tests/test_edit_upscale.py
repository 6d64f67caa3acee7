"""Upscale: exact sizes, tiled == untiled (a random-weight ESRGAN built from spandrel's own
architecture class and read back by spandrel's ModelLoader), tile-size independence, the
blending ramps, the Fooocus modes with their refine, models from the upscalers folder."""

from __future__ import annotations

import time

import numpy as np
import pytest

from studio.errors import BadInput, StudioError
from studio.image.edit import tiling, upscale, upscaler, work
from studio.progress import Cancelled, Task
from tests.edit_helpers import QUICK, array, edit_ctx, picture  # noqa: F401  (fixture)

TOLERANCE_MAX = 2  # grey levels, anywhere
TOLERANCE_MEAN = 0.05


@pytest.mark.parametrize("size", [(33, 17), (64, 48), (51, 40)])
def test_the_model_scale_gives_exactly_scale_times_the_input_odd_sizes_too(edit_ctx, size):
    image = picture(*size)
    big, info = upscale.super_resolve(edit_ctx, image, 4, tile_size=24, overlap=8)
    assert big.size == (size[0] * 4, size[1] * 4)
    assert info["model_scale"] == 4 and info["architecture"] == "ESRGAN" and info["passes"] == 1


@pytest.mark.parametrize("size", [(33, 17), (50, 41)])
def test_fast_2x_is_exactly_twice_the_input(edit_ctx, size):
    result = upscale.upscale(edit_ctx, upscale.UpscaleRequest(picture(*size), mode="Upscale (Fast 2×)"))
    assert result.image.size == (2 * size[0], 2 * size[1])
    assert result.steps_run == 0 and result.seed is None  # super-resolution only, no diffusion


def test_the_x2_model_with_pixel_unshuffle_reads_and_scales_odd_sizes(edit_ctx):
    big, info = upscale.super_resolve(edit_ctx, picture(37, 23), 2, model_id="2kpr/Real-ESRGAN/RealESRGAN_x2plus.pth")
    assert big.size == (74, 46) and info["model_scale"] == 2


def test_rounding_of_fractional_factors_is_half_up():
    assert upscale.output_size(101, 75, 1.5) == (152, 113)  # 151.5 -> 152, 112.5 -> 113
    assert upscale.output_size(33, 17, 2.0) == (66, 34)


def test_tiled_output_equals_untiled_within_a_small_tolerance(edit_ctx):
    image = picture(61, 45)
    whole, info = upscale.super_resolve(edit_ctx, image, 4, tile_size=4096)
    assert info["tiles"] == 1
    tiled, info = upscale.super_resolve(edit_ctx, image, 4, tile_size=20, overlap=12)
    assert info["tiles"] == 12  # 4 columns × 3 rows
    diff = np.abs(array(whole).astype(int) - array(tiled).astype(int))
    assert diff.max() <= TOLERANCE_MAX and diff.mean() <= TOLERANCE_MEAN, (diff.max(), diff.mean())
    assert array(whole).std() > 10  # the twin draws a picture, not a flat clip


def test_the_tile_size_does_not_change_the_result_beyond_the_tolerance(edit_ctx):
    image = picture(61, 45, seed=3)
    results = [array(upscale.super_resolve(edit_ctx, image, 4, tile_size=t, overlap=12)[0]).astype(int)
               for t in (24, 32, 48)]
    for other in results[1:]:
        diff = np.abs(results[0] - other)
        assert diff.max() <= TOLERANCE_MAX and diff.mean() <= TOLERANCE_MEAN


@pytest.mark.parametrize("width,height,tile,overlap,scale", [(61, 45, 20, 12, 3), (100, 7, 16, 20, 1), (5, 5, 64, 8, 4)])
def test_the_blending_ramps_add_up_to_one_everywhere(width, height, tile, overlap, scale):
    weights = np.zeros((height * scale, width * scale))
    tiles = tiling.plan(width, height, tile, overlap)
    used = tiling.overlap_used(tiles)
    for t in tiles:
        y0, y1, wy = tiling.ramp(t.rows, height, used, scale)
        x0, x1, wx = tiling.ramp(t.cols, width, used, scale)
        assert t.rows.read_start * scale <= y0 and y1 <= t.rows.read_end * scale  # inside what was read
        weights[y0:y1, x0:x1] += wy[:, None] * wx[None, :]
    assert np.allclose(weights, 1.0, atol=1e-6)


def test_a_tile_of_the_image_size_runs_once_and_equals_a_bare_spandrel_call(edit_ctx):
    import torch

    image = picture(40, 30)
    big, _ = upscale.super_resolve(edit_ctx, image, 4, tile_size=4096)
    with edit_ctx.cache.use(upscaler.spec(edit_ctx)) as model:
        with torch.inference_mode():
            x = torch.from_numpy(array(image).copy()).permute(2, 0, 1)[None].float() / 255
            bare = model.module(x)[0].clamp(0, 1).permute(1, 2, 0).numpy()
    assert np.abs(array(big).astype(int) - np.rint(bare * 255).astype(int)).max() <= 1


def test_on_a_cpu_the_model_runs_in_fp32(edit_ctx):
    import torch

    with edit_ctx.cache.use(upscaler.spec(edit_ctx)) as model:
        assert next(model.module.parameters()).dtype == torch.float32 and model.dtype == torch.float32
        assert model.supports_half  # ESRGAN may run in fp16 on a GPU


def test_upscale_2x_refines_with_a_low_denoise_and_keeps_the_exact_size(edit_ctx, tmp_path):
    from PIL import Image

    request = upscale.UpscaleRequest(picture(51, 37), mode="Upscale (1.5×)", diffusion=QUICK)
    result = upscale.upscale(edit_ctx, request, tmp_path)
    assert result.image.size == upscale.output_size(51, 37, 1.5) == (77, 56)
    assert result.settings["refine_denoise"] == upscale.REFINE_DENOISE == 0.382
    assert result.steps_run == int(QUICK.steps * 0.382)
    saved = Image.open(result.path)
    assert saved.size == (77, 56)
    assert "Denoising strength: 0.382" in saved.info["parameters"] and "Edit: upscale" in saved.info["parameters"]


def test_a_large_refine_runs_in_overlapping_tiles_of_the_model_resolution(edit_ctx):
    # The tiny SDXL's resolution is 256 px: a 400x300 refine needs tiles.
    big = picture(400, 300)
    out, info, _last = upscale.refine(edit_ctx, big, QUICK, 0.382, seed=3)
    assert out.size == (400, 300)
    # Cores of at most 256 - 2·32 = 192 px, each read with 32 px of context: windows of <= 256 px.
    assert info["refine_tile_size"] == 192 and info["refine_overlap"] == 32
    assert info["refine_tiles"] == 6  # 3 columns × 2 rows
    assert info["steps_run"] == 6 * int(QUICK.steps * 0.382)


def test_cancel_stops_between_tiles(edit_ctx):
    image = picture(64, 64)

    def work(task):
        task.cancel()  # pressed before the first tile finishes
        return upscale.super_resolve(edit_ctx, image, 4, tile_size=16, overlap=4, task=task)

    with pytest.raises(Cancelled):
        Task(work).run()


def test_a_model_file_from_the_upscalers_folder_is_listed_and_used(edit_ctx, tmp_path):
    import shutil

    from studio.models import tiny

    folder = edit_ctx.settings.upscalers_dir
    folder.mkdir(parents=True, exist_ok=True)
    twin = next(tiny.ensure_built("esrgan-x2", edit_ctx.settings.tiny_dir).glob("*.safetensors"))
    shutil.copy(twin, folder / "my-2x.safetensors")
    assert "my-2x.safetensors" in upscaler.choices(edit_ctx.settings)
    big, info = upscale.super_resolve(edit_ctx, picture(20, 14), 2, model_id="my-2x.safetensors")
    assert big.size == (40, 28) and info["upscaler"] == "my-2x.safetensors"


def test_a_file_spandrel_cannot_read_is_refused_naming_what_it_supports(edit_ctx):
    import torch

    folder = edit_ctx.settings.upscalers_dir
    folder.mkdir(parents=True, exist_ok=True)
    torch.save({"not.a.model": torch.zeros(3)}, folder / "mystery.pth")
    (folder / "notes.pth").write_text("this is not a model")
    for name in ("mystery.pth", "notes.pth"):
        with pytest.raises(BadInput, match=r"not an upscaler spandrel can read.*ESRGAN.*SwinIR"):
            upscale.super_resolve(edit_ctx, picture(20, 14), 2, model_id=name)
    with pytest.raises(BadInput, match="No upscaler called"):
        upscale.super_resolve(edit_ctx, picture(20, 14), 2, model_id="../../etc/passwd")


@pytest.mark.timeout(60)  # before the check, a 1× model looped for ever
def test_a_1x_restoration_model_is_refused_when_picked(edit_ctx):
    from studio.image.edit import tiny_twins

    folder = edit_ctx.settings.upscalers_dir
    folder.mkdir(parents=True, exist_ok=True)
    tiny_twins._save_esrgan(folder, "cleanup-1x.safetensors", scale=1)  # spandrel: purpose "Restoration"
    with pytest.raises(BadInput, match=r"cleanup-1x.safetensors is a ×1 ESRGAN model .*pick a model of ×2 or more"):
        upscale.upscale(edit_ctx, upscale.UpscaleRequest(picture(32, 24), upscaler="cleanup-1x.safetensors"))


@pytest.mark.timeout(60)
def test_a_model_that_does_not_enlarge_stops_with_a_sentence_instead_of_looping(edit_ctx, monkeypatch):
    with edit_ctx.cache.use(upscaler.spec(edit_ctx)) as model:
        monkeypatch.setattr(model, "scale", 1)  # what a 1× model that slipped past the loader would say
    with pytest.raises(BadInput, match="does not enlarge the picture"):
        upscale.super_resolve(edit_ctx, picture(20, 14), 2)
    with pytest.raises(BadInput, match="does not enlarge the picture"):
        upscale.passes_size((20, 14), (40, 28), 1)
    assert upscale.passes_size((20, 14), (40, 28), 4) == (80, 56)


@pytest.mark.timeout(60)
def test_fast_2x_with_a_x4_model_refuses_a_giant_intermediate_before_any_work(edit_ctx, monkeypatch):
    from PIL import Image

    monkeypatch.setattr(tiling, "run_tiled", lambda *a, **k: pytest.fail("the super-resolution started"))
    started = time.perf_counter()
    # 2× of 2100² is 4200² (allowed), but a ×4 model would first make 8400² (70.6 megapixels).
    with pytest.raises(BadInput, match=r"×4: to make 4200×4200 it would first make a 8400×8400 picture "
                                       r"\(70.6 megapixels\), over the 67.1 megapixel limit"):
        upscale.upscale(edit_ctx, upscale.UpscaleRequest(Image.new("RGB", (2100, 2100)), "Upscale (Fast 2×)"))
    assert time.perf_counter() - started < 10


@pytest.mark.timeout(60)
def test_the_refine_target_is_held_to_the_diffusion_limit_before_any_work(edit_ctx, monkeypatch):
    from PIL import Image

    monkeypatch.setattr(upscale, "super_resolve", lambda *a, **k: pytest.fail("the super-resolution started"))
    with pytest.raises(BadInput, match=r"Upscale \(1.5×\) would redraw a 4500×4500 picture .* limited to 16.8 "
                                       r"megapixels .* Use Upscale \(Fast 2×\)"):
        upscale.upscale(edit_ctx, upscale.UpscaleRequest(Image.new("RGB", (3000, 3000)), "Upscale (1.5×)"))


@pytest.mark.parametrize(
    "diffusion,denoise,message",
    [
        (work.Diffusion(seed=2**40, steps=4), 0.382, "Seed must be at most"),
        (work.Diffusion(seed=1, steps=999), 0.382, "Steps must be between 1 and 150"),
        (work.Diffusion(seed=1, steps=4, checkpoint="nobody/no-such-model"), 0.382, "no-such-model"),
        (work.Diffusion(seed=1, steps=4), 0.2, r"Refine denoise 0.2 with 4 steps runs no step at all .* "
                                               r"at least 0.25 for 4 steps"),
    ],
)
def test_refine_settings_are_refused_before_the_super_resolution(edit_ctx, monkeypatch, diffusion, denoise, message):
    monkeypatch.setattr(upscale, "super_resolve", lambda *a, **k: pytest.fail("the super-resolution started"))
    with pytest.raises(StudioError, match=message):
        upscale.upscale(edit_ctx, upscale.UpscaleRequest(picture(40, 30), "Upscale (2×)", refine_denoise=denoise,
                                                         diffusion=diffusion))
