"""Vary: Fooocus's denoise numbers, and the denoise deciding how many steps actually run."""

from __future__ import annotations

import pytest
from PIL import Image

from studio.errors import BadInput
from studio.image.edit import vary, work
from tests.edit_helpers import array, edit_ctx, picture  # noqa: F401  (fixture)

TEN_STEPS = work.Diffusion(prompt="a quiet street", seed=21, steps=10)


@pytest.mark.parametrize("strength,denoise,steps_run", [("subtle", None, 5), ("strong", None, 8), ("subtle", 0.3, 3),
                                                        ("strong", 1.0, 10)])
def test_the_denoise_strength_maps_to_the_number_of_steps_actually_run(edit_ctx, strength, denoise, steps_run):
    image = picture(80, 60)
    result = vary.vary(edit_ctx, vary.VaryRequest(image, strength=strength, denoise=denoise, diffusion=TEN_STEPS))
    assert result.steps_run == steps_run == work.steps_run(10, denoise or vary.STRENGTHS[f"Vary ({strength.title()})"])
    assert result.image.size == image.size


def test_fooocus_numbers_are_the_defaults():
    assert vary.strength_of("subtle") == vary.STRENGTHS["Vary (Subtle)"] == 0.5
    assert vary.strength_of("Vary (Strong)") == 0.85


def test_same_seed_same_variation_and_metadata_in_the_png(edit_ctx, tmp_path):
    image = picture(64, 64)
    first = vary.vary(edit_ctx, vary.VaryRequest(image, "strong", diffusion=TEN_STEPS), tmp_path)
    again = vary.vary(edit_ctx, vary.VaryRequest(image, "strong", diffusion=TEN_STEPS))
    assert (array(first.image) == array(again.image)).all()
    assert not (array(first.image) == array(image)).all()
    saved = Image.open(first.path).info
    assert "Denoising strength: 0.85" in saved["parameters"] and "Edit: vary" in saved["parameters"]
    assert '"tool": "vary"' in saved["studio"]


def test_unknown_strength_and_bad_denoise_are_refused(edit_ctx):
    with pytest.raises(BadInput, match="subtle or strong"):
        vary.vary(edit_ctx, vary.VaryRequest(picture(), "wild"))
    with pytest.raises(BadInput, match="between 0.01 and 1"):
        vary.vary(edit_ctx, vary.VaryRequest(picture(), denoise=3))


def test_progress_is_reported_per_step_and_cancel_stops_within_one(edit_ctx, tmp_path):
    from studio.progress import Cancelled, Progress, Task

    long_run = work.Diffusion(seed=2, steps=150)
    task = Task(lambda task: vary.vary(edit_ctx, vary.VaryRequest(picture(64, 64), "strong", diffusion=long_run),
                                       tmp_path, task))
    seen = []
    with pytest.raises(Cancelled):
        for event in task.events():
            if isinstance(event, Progress):
                seen.append(event)
                assert str(event.label).startswith("varying at denoise 0.85") and event.total == 127
            if len(seen) == 2:
                task.cancel()
    task.join(30)
    assert not task.running
    assert task.steps_reported <= 4  # the step in flight when Cancel came, and no more
    assert list(tmp_path.rglob("*.png")) == []  # nothing half-done was saved


def test_a_custom_denoise_with_any_strength_label_is_recorded_as_custom(edit_ctx):
    result = vary.vary(edit_ctx, vary.VaryRequest(picture(64, 48), "custom", denoise=0.6, diffusion=TEN_STEPS))
    assert result.settings["strength"] == "custom" and result.settings["denoise"] == 0.6 and result.steps_run == 6
    named = vary.vary(edit_ctx, vary.VaryRequest(picture(64, 48), "strong", denoise=0.85, diffusion=TEN_STEPS))
    assert named.settings["strength"] == "strong"


@pytest.mark.parametrize(
    "request_fields,message",
    [
        (dict(strength="wild"), "subtle or strong"),
        (dict(denoise=0.05), r"Denoise 0.05 with 10 steps runs no step at all .* at least 0.1 for 10 steps"),
        (dict(diffusion=work.Diffusion(seed=-5, steps=0.5)), "Steps must be"),
        (dict(diffusion=work.Diffusion(seed="soon", steps=10)), "Seed must be a number"),
    ],
)
def test_bad_settings_are_refused_before_anything_is_drawn(edit_ctx, monkeypatch, request_fields, message):
    monkeypatch.setattr(work, "run", lambda *a, **k: pytest.fail("the diffusion started"))
    fields = {"diffusion": TEN_STEPS, **request_fields}
    with pytest.raises(BadInput, match=message):
        vary.vary(edit_ctx, vary.VaryRequest(picture(64, 48), **fields))


def test_the_lowest_usable_denoise_is_named_for_the_steps():
    for steps, lowest in ((30, 0.04), (4, 0.25), (3, 0.34), (10, 0.1), (150, 0.01)):
        assert work.steps_run(steps, lowest) >= 1
        with pytest.raises(BadInput, match=f"at least {lowest:g} for {steps} steps"):
            work.check_denoise_steps(steps, lowest - 0.01 if lowest > 0.01 else 0.001)
    # Z-Image's flow-matching img2img keeps at least one step: nothing to refuse there.
    assert work.check_denoise_steps(8, 0.01, "zimage") == 1 and work.steps_run(8, 0.382, "zimage") == 4
