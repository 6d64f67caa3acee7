"""Bad input to the edit tools gets a sentence: no image, a picture over the size limit, a file
that is not a picture, a mask of the wrong size, an upscaler file spandrel cannot read, all-zero
margins, an unknown mode."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image

from studio.errors import BadInput
from studio.image.edit import images, inpaint, outpaint, upscale, vary
from studio.pictures import reading
from tests.edit_helpers import QUICK, edit_ctx, picture  # noqa: F401  (fixture)


def test_a_picture_over_the_size_limit_is_refused_before_its_pixels_are_read(edit_ctx, tmp_path):
    giant = tmp_path / "giant.png"
    Image.new("L", (5000, 4000), 0).save(giant)  # 20 megapixels, a few kB on disk
    started = time.perf_counter()
    with pytest.raises(BadInput, match=r"5000×4000 pixels \(20.0 megapixels\); the limit here is 16.8 megapixels"):
        vary.vary(edit_ctx, vary.VaryRequest(str(giant), diffusion=QUICK))
    assert time.perf_counter() - started < 2


def test_an_upscale_whose_output_would_be_too_large_is_refused(edit_ctx, tmp_path):
    started = time.perf_counter()
    with pytest.raises(BadInput, match=r"The upscaled image is 8400×8400 pixels \(70.6 megapixels\)"):
        upscale.super_resolve(edit_ctx, Image.new("RGB", (2100, 2100)), 4)
    big = tmp_path / "big.png"
    Image.new("RGB", (4100, 4100)).save(big)
    with pytest.raises(BadInput, match="4100×4100 pixels"):
        upscale.upscale(edit_ctx, upscale.UpscaleRequest(str(big), "Upscale (Fast 2×)"))
    assert time.perf_counter() - started < 5  # refused before any model work


def test_a_file_that_is_not_a_picture_is_refused(edit_ctx, tmp_path):
    notes = tmp_path / "notes.png"
    notes.write_text("not a picture at all")
    with pytest.raises(BadInput, match=r"\(notes.png\) is not a picture this app can read: use PNG, JPEG or WebP"):
        upscale.upscale(edit_ctx, upscale.UpscaleRequest(str(notes)))


def test_no_image_is_refused(edit_ctx):
    for call in (lambda: upscale.upscale(edit_ctx, upscale.UpscaleRequest(None)),
                 lambda: vary.vary(edit_ctx, vary.VaryRequest(None)),
                 lambda: outpaint.outpaint(edit_ctx, outpaint.OutpaintRequest(None, right=8)),
                 lambda: inpaint.inpaint(edit_ctx, inpaint.InpaintRequest(None, None))):
        with pytest.raises(BadInput, match="is missing: upload a picture"):
            call()


def test_a_mask_of_the_wrong_size_is_refused(edit_ctx):
    with pytest.raises(BadInput, match="the mask must have the image's size"):
        inpaint.inpaint(edit_ctx, inpaint.InpaintRequest(picture(64, 48), np.ones((10, 10), dtype=bool)))


def test_an_upscaler_file_spandrel_cannot_read_names_what_it_supports(edit_ctx):
    folder = edit_ctx.settings.upscalers_dir
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "broken.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(BadInput, match=r"broken.safetensors is not an upscaler spandrel can read .*ESRGAN"):
        upscale.upscale(edit_ctx, upscale.UpscaleRequest(picture(), upscaler="broken.safetensors"))


def test_all_zero_margins_and_unknown_modes_are_refused(edit_ctx):
    with pytest.raises(BadInput, match="All four margins are 0"):
        outpaint.outpaint(edit_ctx, outpaint.OutpaintRequest(picture(), diffusion=QUICK))
    with pytest.raises(BadInput, match="Pick one of: Upscale \\(Fast 2×\\)"):
        upscale.upscale(edit_ctx, upscale.UpscaleRequest(picture(), mode="Upscale (8×)"))


def test_an_outpainted_canvas_over_the_limit_is_refused(edit_ctx):
    with pytest.raises(BadInput, match="The extended picture is"):
        outpaint.outpaint(edit_ctx, outpaint.OutpaintRequest(Image.new("RGB", (4000, 4000)), right=200, unit="%"))


def test_images_from_arrays_and_transparent_pngs(tmp_path):
    rgba = Image.new("RGBA", (20, 20), (255, 0, 0, 0))
    path = tmp_path / "clear.png"
    rgba.save(path)
    assert images.open_image(str(path)).getpixel((0, 0)) == (255, 255, 255)  # transparent reads as white
    assert images.open_image(np.zeros((20, 20, 3), dtype=np.uint8)).size == (20, 20)


def test_a_missing_upscaler_in_the_standard_profile_names_the_file_and_the_fix(tmp_path, monkeypatch):
    from studio.context import StudioContext
    from studio.errors import ModelUnavailable
    from studio.settings import load_settings

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))  # an empty cache: nothing downloaded
    settings = load_settings(["--profile", "standard", "--device", "cpu", "--cache-dir", str(tmp_path / "cache"),
                              "--outputs", str(tmp_path / "out")], env={})
    with pytest.raises(ModelUnavailable) as caught:
        upscale.super_resolve(StudioContext(settings), picture(32, 32), 2)
    message = str(caught.value)
    assert "'2kpr/Real-ESRGAN/RealESRGAN_x4plus.pth' could not be loaded" in message
    assert "`hf download 2kpr/Real-ESRGAN RealESRGAN_x4plus.pth`" in message and "--profile tiny" in message


def test_transparent_parts_are_white_however_the_picture_arrives(tmp_path):
    # A picture from the UI (PIL), an array, and a file all go through the same composite on white:
    # plain convert("RGB") would turn the transparent half black.
    half = np.zeros((20, 20, 4), dtype=np.uint8)
    half[:, :10] = (255, 0, 0, 255)
    half[:, 10:] = (0, 0, 0, 0)
    path = tmp_path / "half.png"
    Image.fromarray(half).save(path)
    for value in (Image.fromarray(half), half, str(path), Image.fromarray(half).convert("LA")):
        opened = np.asarray(images.open_image(value))
        assert opened.shape == (20, 20, 3) and opened.dtype == np.uint8
        assert (opened[:, 10:] == 255).all()  # transparent reads as white
    assert (np.asarray(images.open_image(Image.fromarray(half)))[:, :10] == (255, 0, 0)).all()
    semi = Image.new("RGBA", (16, 16), (0, 0, 0, 128))  # half-transparent black: mid grey on white
    assert abs(reading.on_white(semi).getpixel((0, 0))[0] - 127) <= 1
