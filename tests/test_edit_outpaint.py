"""Outpaint: sizes after the documented rounding, the original bytes kept, extending the result
again, the seam blend itself (the diffusion output replaced by a flat colour), bad margins."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from studio.errors import BadInput
from studio.image.edit import outpaint, work
from tests.edit_helpers import QUICK, array, edit_ctx, picture  # noqa: F401  (fixture)

FLAT = (200, 40, 90)


def request(image, **fields):
    return outpaint.OutpaintRequest(image, diffusion=QUICK, **fields)


@pytest.mark.parametrize(
    "fields,size",
    [
        (dict(right=64), (96 + 64, 72)),
        (dict(right=50), (96 + 56, 72)),  # 50 px rounded up to a multiple of 8
        (dict(left=1, top=9), (96 + 8, 72 + 16)),
        (dict(left=30, right=30, unit="%"), (96 + 32 + 32, 72)),  # 30% of 96 = 28.8 -> 29 -> 32
        (dict(top=25, bottom=50, unit="%"), (96, 72 + 24 + 40)),  # 18 -> 24, 36 -> 40
    ],
)
def test_output_size_is_the_input_plus_the_rounded_margins_and_the_original_is_byte_identical(edit_ctx, fields, size):
    image = picture(96, 72)
    result = outpaint.outpaint(edit_ctx, request(image, **fields))
    assert result.image.size == size
    m = result.settings
    out = array(result.image)
    assert np.array_equal(out[m["top"] : m["top"] + 72, m["left"] : m["left"] + 96], array(image))
    assert result.steps_run == QUICK.steps  # denoise 1: every step runs


def test_rounding_is_stated_in_the_notes(edit_ctx):
    result = outpaint.outpaint(edit_ctx, request(picture(96, 72), right=50))
    assert any("50 px → 56 px" in note and "multiple of 8" in note for note in result.notes)


def test_outpainting_the_result_again_grows_it_again(edit_ctx, tmp_path):
    first = outpaint.outpaint(edit_ctx, request(picture(96, 72), right=32), tmp_path)
    again = outpaint.outpaint(edit_ctx, request(first.path, right=32, bottom=16), tmp_path)  # the saved file goes back in
    assert first.image.size == (128, 72) and again.image.size == (160, 88)
    assert np.array_equal(array(again.image)[:72, :128], array(first.image))


def test_the_prompt_is_optional(edit_ctx):
    empty = work.Diffusion(prompt="", seed=3, steps=2)
    result = outpaint.outpaint(edit_ctx, outpaint.OutpaintRequest(picture(64, 64), left=16, diffusion=empty))
    assert result.image.size == (80, 64)


@pytest.mark.parametrize("feather", [8, 24])
def test_the_seam_goes_from_the_edge_to_the_model_colour_over_the_feather_width_without_a_step(feather):
    image = picture(64, 48)
    original = array(image)
    margins = outpaint.Margins(right=64)
    flat = np.empty((48, 128, 3), dtype=np.uint8)
    flat[:] = FLAT
    out = outpaint.compose(original, flat, margins, feather).astype(int)
    for row in (0, 20, 47):
        edge = original[row, -1].astype(int)
        line = out[row, 64:]
        gap = np.abs(edge - np.array(FLAT))
        # the first new pixel is (almost) the original's edge pixel: no line at the seam
        assert np.all(np.abs(line[0] - edge) <= gap / feather + 1)
        # every next pixel moves by at most one feather-th of the way (plus rounding): no step
        assert np.all(np.abs(np.diff(line, axis=0)) <= gap / feather + 1)
        # monotonic from the edge colour to the model's colour, reached at the feather width
        for c in range(3):
            values = line[: feather + 1, c]
            assert np.all(np.diff(values) * np.sign(FLAT[c] - edge[c]) >= -1)
        assert np.all(line[feather:] == FLAT)
    assert np.array_equal(out[:, :64], original)


def test_the_seam_blend_end_to_end_with_the_diffusion_output_replaced_by_a_flat_colour(edit_ctx, monkeypatch):
    calls = []

    def flat_model(studio, image_request, task, label):
        calls.append(image_request)
        from studio.image.request import ImageResult

        size = image_request.init_image.size
        return ImageResult(image=Image.new("RGB", size, FLAT), seed=1, prompt="", negative_prompt="", parameters={},
                           steps_run=0)

    monkeypatch.setattr(work, "run", flat_model)
    image = picture(64, 48)
    result = outpaint.outpaint(edit_ctx, request(image, left=32, right=32, seam_feather=16))
    out = array(result.image).astype(int)
    assert np.array_equal(out[:, 32:96], array(image))
    assert np.all(out[:, :16] == FLAT) and np.all(out[:, -16:] == FLAT)  # beyond the feather: the model's pixels
    gap = np.abs(array(image)[:, [0]].astype(int) - np.array(FLAT)).max()
    assert np.abs(np.diff(out, axis=1)).max() <= max(gap / 16 + 1, np.abs(np.diff(array(image).astype(int), axis=1)).max())
    # the model was shown the mask of the new area, and a start whose new area holds the edge colours
    mask = np.asarray(calls[0].mask_image)
    assert mask[:, 0].min() == 255 and mask[:, mask.shape[1] // 2].max() == 0


def test_the_new_area_starts_from_the_blurred_edge_colours():
    image = np.zeros((40, 40, 3), dtype=np.uint8)
    image[:, -1] = (10, 200, 30)  # the right edge is green
    start = outpaint.initial_canvas(image, outpaint.Margins(right=40))
    assert np.array_equal(start[:, :40], image)
    new = start[:, 40:].astype(int)
    assert np.all(np.abs(new[:, 10:] - np.array([10, 200, 30])) <= 2)  # edge colour carried out


@pytest.mark.parametrize(
    "fields,message",
    [
        (dict(), "All four margins are 0"),
        (dict(left=0, right=0, top=0, bottom=0, unit="%"), "All four margins are 0"),
        (dict(right=-5), "cannot be negative"),
        (dict(right=300, unit="%"), "at most 200%"),
        (dict(right=10, unit="cm"), "px or %"),
        (dict(right="wide"), "must be a number"),
        (dict(right=float("inf")), "The right margin must be a finite number of pixels, not 'inf'"),
        (dict(top=float("nan"), unit="%"), "The top margin must be a finite number of percent, not 'nan'"),
        (dict(left="-inf"), "The left margin must be a finite number"),
    ],
)
def test_bad_margins_are_refused_with_a_sentence(edit_ctx, fields, message):
    with pytest.raises(BadInput, match=message):
        outpaint.outpaint(edit_ctx, request(picture(64, 48), **fields))


@pytest.mark.parametrize(
    "fields,note",
    [
        (dict(right=30, unit="%"), None),  # 30% of 80 px is 24 px, a multiple of 8: nothing was rounded
        (dict(right=32), None),
        (dict(right=25, unit="%"), "Right: 25% (20 px) → 24 px"),
        (dict(left=20), "Left: 20 px → 24 px"),
    ],
)
def test_the_rounding_note_compares_pixels_with_pixels(fields, note):
    _margins, notes = outpaint.margins_for(80, 56, outpaint.OutpaintRequest(None, **fields), 8)
    if note is None:
        assert notes == []
    else:
        assert len(notes) == 1 and notes[0].startswith(note)


def test_the_start_is_blurred_at_the_work_size_and_the_original_is_still_byte_identical(edit_ctx, monkeypatch):
    seen = []
    real_run = work.run

    def spy(studio, image_request, task, label):
        seen.append(image_request)
        return real_run(studio, image_request, task, label)

    monkeypatch.setattr(work, "run", spy)
    image = picture(320, 240)
    result = outpaint.outpaint(edit_ctx, request(image, right=160, bottom=80))
    margins = outpaint.Margins(right=160, bottom=80)
    work_size = tuple(int(v) for v in result.settings["work_size"].split("x"))
    assert work_size != (480, 320)  # the tiny model's 256² resolution: smaller than the canvas
    start = outpaint.initial_canvas(array(image), margins, work_size)
    assert start.shape[:2] == (work_size[1], work_size[0])
    assert np.array_equal(np.asarray(seen[0].init_image), start)  # the model starts from the work-size canvas
    mask = np.asarray(seen[0].mask_image) > 127
    assert np.array_equal(mask, outpaint.new_area_at(320, 240, margins, work_size))
    assert np.array_equal(array(result.image)[:240, :320], array(image))
