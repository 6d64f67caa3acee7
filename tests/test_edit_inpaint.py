"""Inpaint: pixels outside the feathered mask unchanged, an empty mask refused, a full mask
is img2img, small masks repainted at the model's resolution (grown when too small, and said
so), masks from an image editor's brush layers."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from studio.errors import BadInput
from studio.image.edit import images, inpaint, masks, vary
from tests.edit_helpers import QUICK, array, edit_ctx, picture  # noqa: F401  (fixture)


def request(image, mask, **fields):
    return inpaint.InpaintRequest(image, mask, diffusion=QUICK, **fields)


def box_mask(width, height, box):
    mask = np.zeros((height, width), dtype=bool)
    left, top, right, bottom = box
    mask[top:bottom, left:right] = True
    return mask


@pytest.mark.parametrize("only_masked_area", [True, False])
def test_pixels_outside_the_feathered_mask_are_unchanged(edit_ctx, only_masked_area):
    image = picture(120, 90)
    mask = box_mask(120, 90, (40, 30, 70, 55))
    result = inpaint.inpaint(edit_ctx, request(image, mask, mask_grow=4, mask_feather=6,
                                               only_masked_area=only_masked_area))
    alpha = masks.feather(masks.grow(mask, 4), 6)
    before, after = array(image), array(result.image)
    assert after.shape == before.shape
    assert np.array_equal(after[alpha == 0], before[alpha == 0])
    assert (alpha == 0).sum() > 0.7 * alpha.size
    assert np.abs(after[mask].astype(int) - before[mask].astype(int)).mean() > 5  # the brushed part is repainted


def test_a_small_mask_is_repainted_at_the_model_resolution(edit_ctx):
    image = picture(600, 400)
    mask = box_mask(600, 400, (300, 200, 320, 220))  # 20x20 px of a 600x400 picture
    result = inpaint.inpaint(edit_ctx, request(image, mask, mask_grow=0, mask_feather=2))
    work_w, work_h = map(int, result.settings["work_size"].split("x"))
    assert abs(work_w * work_h - 256 * 256) < 0.15 * 256 * 256  # the tiny SDXL's own resolution
    left, top, right, bottom = map(int, result.settings["region"].split(","))
    assert right - left < 150 and bottom - top < 150  # a crop around the mask, not the whole picture


def test_a_mask_too_small_to_act_on_is_grown_and_the_result_says_so(edit_ctx):
    image = picture(256, 256)
    mask = box_mask(256, 256, (100, 100, 102, 102))  # 2x2 px, whole-image mode: 2 px at the model's 256 px
    result = inpaint.inpaint(edit_ctx, request(image, mask, mask_grow=0, mask_feather=0, only_masked_area=False))
    assert result.settings["mask_grow_used"] > 0
    assert any("was grown" in note for note in result.notes)
    changed = np.any(array(result.image) != array(image), axis=2)
    assert changed.sum() >= 16 * 16 * 0.5


def test_an_empty_mask_is_refused_with_a_clear_message(edit_ctx):
    image = picture(64, 64)
    with pytest.raises(BadInput, match="The mask is empty: brush over the part"):
        inpaint.inpaint(edit_ctx, request(image, np.zeros((64, 64), dtype=bool)))
    blank = Image.new("L", (64, 64), 0)
    with pytest.raises(BadInput, match="The mask is empty"):
        inpaint.inpaint(edit_ctx, request(image, blank))


def test_a_full_mask_behaves_like_img2img(edit_ctx):
    image = picture(96, 64)
    full = inpaint.inpaint(edit_ctx, request(image, np.ones((64, 96), dtype=bool), denoise=0.6))
    varied = vary.vary(edit_ctx, vary.VaryRequest(image, denoise=0.6, diffusion=QUICK))
    assert np.array_equal(array(full.image), array(varied.image))
    assert full.steps_run == varied.steps_run == int(QUICK.steps * 0.6)
    assert any("img2img" in note for note in full.notes)


def test_a_mask_of_the_wrong_size_is_refused(edit_ctx):
    with pytest.raises(BadInput, match=r"mask is 32×32 pixels but the image is 64×48"):
        inpaint.inpaint(edit_ctx, request(picture(64, 48), Image.new("L", (32, 32), 255)))


def test_white_on_black_mask_pictures_and_painted_layers_both_work():
    black_white = Image.new("L", (40, 30), 0)
    black_white.paste(255, (10, 10, 20, 20))
    assert images.open_mask(black_white, (40, 30)).sum() == 100
    layer = Image.new("RGBA", (40, 30), (0, 0, 0, 0))
    layer.paste((255, 0, 0, 255), (0, 0, 5, 5))
    second = Image.new("RGBA", (40, 30), (0, 0, 0, 0))
    second.paste((0, 0, 255, 128), (30, 20, 40, 30))
    union = images.mask_from_layers((40, 30), [layer, second])
    assert union.sum() == 25 + 100
    assert images.open_mask(layer, (40, 30)).sum() == 25  # a transparent layer: painted = repaint


def test_grow_and_feather():
    mask = box_mask(50, 50, (20, 20, 30, 30))
    grown = masks.grow(mask, 3)
    assert masks.bounding_box(grown) == (17, 17, 33, 33)
    alpha = masks.feather(grown, 4)
    assert alpha[25, 25] == 1.0 and alpha[0, 0] == 0.0
    left, top, right, bottom = masks.bounding_box(alpha > 0)
    assert left >= 17 - 4 and right <= 33 + 4  # the blur stops at its own reach
    assert 0 < alpha[17, 14] < 1  # soft edge


@pytest.mark.parametrize("grow,feather,message", [(-1, 4, "Mask grow"), (4, 1000, "Mask feather")])
def test_bad_grow_and_feather_are_refused(edit_ctx, grow, feather, message):
    mask = box_mask(64, 64, (10, 10, 20, 20))
    with pytest.raises(BadInput, match=message):
        inpaint.inpaint(edit_ctx, request(picture(64, 64), mask, mask_grow=grow, mask_feather=feather))


def test_a_denoise_too_low_for_the_steps_is_refused_before_anything_is_drawn(edit_ctx, monkeypatch):
    from studio.image.edit import work

    monkeypatch.setattr(work, "run", lambda *a, **k: pytest.fail("the diffusion started"))
    mask = np.zeros((48, 64), dtype=bool)
    mask[10:30, 10:30] = True
    with pytest.raises(BadInput, match=r"Denoise 0.2 with 4 steps runs no step at all .* at least 0.25 for 4 steps"):
        inpaint.inpaint(edit_ctx, inpaint.InpaintRequest(picture(64, 48), mask, denoise=0.2, diffusion=QUICK))


@pytest.mark.parametrize("feather", [2, 8, 32])
def test_the_soft_edge_lies_outside_the_mask_so_no_brushed_pixel_keeps_a_ghost(feather):
    """Grow 0 and a wide feather: every brushed pixel is still fully repainted, the edge falls
    off outside the mask and reaches nothing beyond ``feather`` pixels."""
    mask = box_mask(200, 200, (80, 80, 120, 120))
    alpha = masks.feather(mask, feather)
    assert (alpha[mask] == 1.0).all()
    left, top, right, bottom = masks.bounding_box(alpha > 0)
    assert left >= 80 - feather and right <= 120 + feather
    row = alpha[100, 80 - feather - 1:80]  # from beyond the edge's reach in to the mask's border
    assert row[0] == 0.0 and (np.diff(row) >= 0).all() and 0 < row[len(row) // 2] < 1
    repaint = masks.repainted_area(mask, feather)
    assert repaint[mask].all() and repaint.sum() > mask.sum()
