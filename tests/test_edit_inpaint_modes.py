"""Inpaint's modes (Fooocus's three), the inpaint prompt and the inverted mask, on the tiny twins:
pixels outside the feathered mask are the original's in every mode, Improve Detail runs
int(steps × 0.5) steps, Modify Content starts from noise (denoise 1 and nothing else), the
inpaint prompt goes in front of the prompt, and an inverted mask repaints the other part."""

from __future__ import annotations

import numpy as np
import pytest

from studio.errors import BadInput
from studio.image.edit import inpaint, masks, work
from studio.tools.fields import checked
from tests.edit_helpers import QUICK, array, edit_ctx, picture  # noqa: F401  (fixture)

GROW, FEATHER = 4, 6


def box_mask(width, height, box):
    mask = np.zeros((height, width), dtype=bool)
    left, top, right, bottom = box
    mask[top:bottom, left:right] = True
    return mask


def run(ctx, image, mask, **fields):
    return inpaint.inpaint(ctx, inpaint.InpaintRequest(image, mask, mask_grow=GROW, mask_feather=FEATHER,
                                                       diffusion=QUICK, **fields))


@pytest.mark.parametrize("mode,steps", [("default", 4), ("detail", 2), ("modify", 4)])
def test_every_mode_keeps_the_pixels_outside_the_feathered_mask(edit_ctx, mode, steps):
    image = picture(120, 90)
    mask = box_mask(120, 90, (40, 30, 70, 55))
    result = run(edit_ctx, image, mask, mode=mode)
    alpha = masks.feather(masks.grow(mask, GROW), FEATHER)
    before, after = array(image), array(result.image)
    assert np.array_equal(after[alpha == 0], before[alpha == 0])
    assert np.abs(after[mask].astype(int) - before[mask].astype(int)).mean() > 2  # the brushed part is redrawn
    # Improve Detail: int(steps × 0.5) of QUICK's 4 steps; the others redraw from noise, all 4.
    assert result.steps_run == steps == int(QUICK.steps * inpaint.MODES[mode].denoise)
    assert result.settings["mode"] == mode and result.settings["denoise"] == inpaint.MODES[mode].denoise
    assert result.parameters["request"]["strength"] == inpaint.MODES[mode].denoise  # what the pipeline was given


def test_modify_content_is_denoise_one_and_nothing_else(edit_ctx):
    mask = box_mask(64, 48, (10, 10, 30, 30))
    with pytest.raises(BadInput, match="Modify Content starts the masked area from noise, which is denoise 1"):
        run(edit_ctx, picture(64, 48), mask, mode="modify", denoise=0.6)
    assert run(edit_ctx, picture(64, 48), mask, mode="modify", denoise=1.0).steps_run == 4


def test_a_denoise_given_overrides_the_modes_own(edit_ctx):
    result = run(edit_ctx, picture(64, 48), box_mask(64, 48, (10, 10, 30, 30)), mode="detail", denoise=0.75)
    assert result.settings["denoise"] == 0.75 and result.steps_run == 3


def test_fooocus_names_of_the_modes_are_accepted():
    for name, mode in [("Improve Detail (face, hand, eyes, etc.)", "detail"),
                       ("Modify Content (add objects, change background, etc.)", "modify"),
                       ("Inpaint or Outpaint (default)", "default")]:
        assert checked(inpaint.InpaintRequest("picture.png", None, mode=name)).mode == mode
    with pytest.raises(BadInput, match="must be one of default, detail, modify"):
        checked(inpaint.InpaintRequest("picture.png", None, mode="sharpen"))


def test_the_inpaint_prompt_goes_in_front_of_the_prompt(edit_ctx):
    mask = box_mask(64, 48, (10, 10, 30, 30))
    result = run(edit_ctx, picture(64, 48), mask, inpaint_prompt="a red lantern")
    assert result.parameters["request"]["prompt"] == "a red lantern\na harbour at dusk"
    assert result.settings["inpaint_prompt"] == "a red lantern"
    alone = inpaint.with_inpaint_prompt(work.Diffusion(prompt=""), "a red lantern")
    assert alone.prompt == "a red lantern"  # no shared prompt: it stands alone


def test_an_inverted_mask_repaints_the_other_part(edit_ctx):
    image = picture(120, 90)
    mask = box_mask(120, 90, (30, 20, 90, 70))
    result = run(edit_ctx, image, mask, invert_mask=True)
    before, after = array(image), array(result.image)
    kept = masks.feather(masks.grow(~mask, GROW), FEATHER) == 0  # what the inverted mask's feather leaves
    assert kept.any() and mask[kept].all()  # ... lies inside the brushed box
    assert np.array_equal(after[kept], before[kept])
    assert np.abs(after[~mask].astype(int) - before[~mask].astype(int)).mean() > 2  # everything else is redrawn
    assert result.settings["invert_mask"] is True


def test_inverting_a_mask_that_covers_everything_is_refused(edit_ctx):
    with pytest.raises(BadInput, match="inverted it repaints nothing"):
        run(edit_ctx, picture(64, 48), np.ones((48, 64), dtype=bool), invert_mask=True)
