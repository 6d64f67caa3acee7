"""Image prompts mixed with the edit tools (as Fooocus mixes them with inpaint, vary and upscale), on
the tiny twins: an inpaint steered by PyraCanny changes only the masked area and is steered (its
pixels differ from the same inpaint without it); a map of the picture is cut with the crop (and
carried out with an outpaint's canvas); IP-Adapters steer img2img; a family without the
pipelines says so before anything is drawn."""

from __future__ import annotations

import numpy as np
import pytest

from studio.errors import BadInput
from studio.image.edit import inpaint, masks, outpaint, upscale, vary, work
from studio.image.image_prompts.slots import check_slots, cut_to, placed_in
from tests.edit_helpers import QUICK, array, edit_ctx, picture  # noqa: F401  (fixture)

GROW, FEATHER = 4, 6


def steered(*slots) -> work.Diffusion:
    return work.Diffusion(prompt=QUICK.prompt, seed=QUICK.seed, steps=QUICK.steps, image_prompts=tuple(slots))


def box_mask(width, height, box):
    mask = np.zeros((height, width), dtype=bool)
    left, top, right, bottom = box
    mask[top:bottom, left:right] = True
    return mask


def test_an_inpaint_with_a_pyracanny_slot_changes_only_the_masked_area(edit_ctx):
    image = picture(120, 90)
    mask = box_mask(120, 90, (40, 30, 70, 55))
    request = dict(mask_grow=GROW, mask_feather=FEATHER)
    with_map = inpaint.inpaint(edit_ctx, inpaint.InpaintRequest(
        image, mask, diffusion=steered({"image": image, "type": "PyraCanny"}), **request))
    plain = inpaint.inpaint(edit_ctx, inpaint.InpaintRequest(image, mask, diffusion=QUICK, **request))
    alpha = masks.feather(masks.grow(mask, GROW), FEATHER)
    before, after = array(image), array(with_map.image)
    assert np.array_equal(after[alpha == 0], before[alpha == 0])
    assert np.abs(after[mask].astype(int) - before[mask].astype(int)).mean() > 2
    assert not np.array_equal(after, array(plain.image))  # the ControlNet steered the repaint
    (slot,) = with_map.parameters["request"]["image_prompts"]
    assert slot["type"] == "PyraCanny" and slot["weight"] == 1.0 and slot["stop_at"] == 0.5
    # The map of this very picture was cut with the crop, so its edges line up with it.
    left, top, right, bottom = map(int, with_map.settings["region"].split(","))
    assert slot["image_size"] == [right - left, bottom - top]
    assert "Image prompts" in with_map.a1111()


def test_vary_takes_an_image_prompt_through_its_img2img_pipeline(edit_ctx):
    image = picture(96, 64)
    styled = vary.vary(edit_ctx, vary.VaryRequest(image, diffusion=steered({"image": picture(64, 64, seed=5),
                                                                            "type": "ImagePrompt"})))
    plain = vary.vary(edit_ctx, vary.VaryRequest(image, diffusion=QUICK))
    assert styled.steps_run == plain.steps_run == 2
    assert not np.array_equal(array(styled.image), array(plain.image))
    assert [slot["type"] for slot in styled.parameters["request"]["image_prompts"]] == ["ImagePrompt"]


def test_a_family_without_the_pipelines_says_so_before_anything_is_drawn(edit_ctx, monkeypatch):
    monkeypatch.setattr(work, "run", lambda *a, **k: pytest.fail("the diffusion started"))
    zimage = work.Diffusion(checkpoint="Tongyi-MAI/Z-Image-Turbo", steps=4,
                            image_prompts=({"image": picture(64, 64), "type": "PyraCanny"},))
    mask = box_mask(64, 48, (10, 10, 30, 30))
    with pytest.raises(BadInput, match="Z-Image Turbo has no ControlNet pipeline for repainting part of a picture"):
        inpaint.inpaint(edit_ctx, inpaint.InpaintRequest(picture(64, 48), mask, diffusion=zimage))


def test_a_fast_upscale_says_it_did_not_use_the_image_prompts(edit_ctx):
    result = upscale.upscale(edit_ctx, upscale.UpscaleRequest(
        picture(32, 24), diffusion=steered({"image": picture(32, 24), "type": "CPDS"})))
    assert any("image prompts steer a redraw" in note for note in result.notes)


def test_a_map_of_the_picture_is_cut_with_the_crop_and_carried_out_with_the_canvas():
    rgb = np.arange(60 * 80 * 3, dtype=np.uint8).reshape(60, 80, 3)
    canny, style, other = check_slots([{"image": rgb, "type": "PyraCanny"}, {"image": rgb, "type": "ImagePrompt"},
                                       {"image": np.zeros((50, 50, 3), np.uint8), "type": "CPDS"}])
    cut = cut_to((canny, style, other), (160, 120), (20, 40, 100, 100))  # the slot is the picture at half size
    assert np.array_equal(cut[0].rgb, rgb[20:50, 10:50])
    assert cut[1] is style and cut[2] is other  # not a map (ImagePrompt), or not this picture's shape
    assert cut_to((canny,), (160, 120), (0, 0, 160, 120))[0] is canny  # the whole picture: as it is
    placed = placed_in((canny, style), (80, 60), (8, 4, 16, 0))  # left, top, right, bottom
    assert placed[0].rgb.shape == (64, 104, 3) and placed[1] is style
    assert np.array_equal(placed[0].rgb[4:64, 8:88], rgb)
    assert (placed[0].rgb[:4, 8:88] == rgb[0]).all()  # the edge carried out: no new edges there


def test_an_outpaint_takes_a_map_of_the_picture(edit_ctx):
    image = picture(64, 48)
    result = outpaint.outpaint(edit_ctx, outpaint.OutpaintRequest(
        image, right=32, diffusion=steered({"image": image, "type": "PyraCanny"})))
    assert result.image.size == (96, 48)
    assert np.array_equal(array(result.image)[:, :64], array(image))  # the original pixels, unchanged
    (slot,) = result.parameters["request"]["image_prompts"]
    assert slot["image_size"] == [96, 48]  # carried out to the canvas
