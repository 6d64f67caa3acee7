"""Enhance on the tiny twins: faces found by the face detector twin (made to find the faces
studio.faces.samples draws) are repainted and nothing else; a region named in words goes through
the Grounding DINO and SAM twins, whose boxes are random, so the test keeps the top box with a
box threshold of 0 and checks against what the result says it repainted; each region's settings
are in the saved metadata; a search that finds nothing is a note; Cancel stops; the tool is in
the app's API."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.errors import BadInput
from studio.faces.samples import draw_faces
from studio.image.edit import enhance, masks, regions, work
from studio.pictures import metadata
from tests.edit_helpers import QUICK, array, edit_ctx  # noqa: F401  (fixture)

FACES = ((80, 80), (240, 80))  # two faces, left and right


def faces_picture():
    return draw_faces((320, 160), FACES, radius=30, seed=1)


def changed(before, after) -> np.ndarray:
    return np.any(array(before) != array(after), axis=2)


def test_enhance_repaints_the_faces_and_nothing_else(edit_ctx):
    image = faces_picture()
    result = enhance.enhance(edit_ctx, enhance.EnhanceRequest(image, region_1_grow=4, mask_feather=6,
                                                              diffusion=QUICK))
    found, total, _ = regions.find(edit_ctx, image, "face", enhance.DEFAULT_MOST, 0.3, 0.25)
    assert total == 2 and [region.finder for region in found] == ["face detector"] * 2
    reach = np.zeros((160, 320), dtype=bool)  # every find's feathered mask
    for region in found:
        reach |= masks.feather(masks.grow(region.mask, 4), 6) > 0
    moved = changed(image, result.image)
    assert not moved[~reach].any()  # outside the regions (plus their feather): the original's bytes
    for cx, cy in FACES:
        assert moved[cy - 15:cy + 15, cx - 15:cx + 15].mean() > 0.5  # each face is redrawn
    (region_1,) = result.settings["regions"]
    assert region_1["found"] == 2 and len(region_1["enhanced"]) == 2
    assert result.steps_run == 2 * int(QUICK.steps * enhance.DEFAULT_DENOISE)  # two finds, denoise 0.5 each


def test_each_regions_settings_are_in_the_saved_metadata(edit_ctx, tmp_path):
    image = faces_picture()
    request = enhance.EnhanceRequest(
        image, region_1_find="face", region_1_prompt="a detailed face", region_1_denoise=0.75, region_1_grow=2,
        region_2_find="hand", region_2_denoise=0.5, region_2_grow=6,
        box_threshold=0.0, max_per_region=1,  # random twins: a threshold of 0 keeps their top box
        diffusion=QUICK)
    result = enhance.enhance(edit_ctx, request, tmp_path)
    saved = metadata.read_parameters(result.path)["studio"]["edit"]
    assert saved["tool"] == "enhance"
    first, second = saved["regions"]
    assert {k: first[k] for k in ("region", "find", "prompt", "denoise", "mask_grow")} == \
        {"region": 1, "find": "face", "prompt": "a detailed face", "denoise": 0.75, "mask_grow": 2}
    assert first["found"] == 2 and len(first["enhanced"]) == 1  # the larger face only (max_per_region 1)
    assert {k: second[k] for k in ("region", "find", "prompt", "denoise", "mask_grow")} == \
        {"region": 2, "find": "hand", "prompt": "", "denoise": 0.5, "mask_grow": 6}
    (hand,) = second["enhanced"]
    assert hand["finder"] == "Grounding DINO + SAM" and hand["steps_run"] == 2
    # Pixels changed only where the result says it repainted (each find's feathered mask box).
    reach = np.zeros((160, 320), dtype=bool)
    for item in (*first["enhanced"], hand):
        left, top, right, bottom = item["changed"]
        reach[top:bottom, left:right] = True
    assert not changed(image, result.image)[~reach].any()


def test_a_region_that_finds_nothing_is_a_note_not_an_error(edit_ctx):
    empty = Image.new("RGB", (128, 96), (40, 60, 120))  # no skin-coloured blob: no face for the twin
    result = enhance.enhance(edit_ctx, enhance.EnhanceRequest(empty, diffusion=QUICK))
    assert np.array_equal(array(result.image), array(empty))
    assert any("found no 'face'" in note for note in result.notes)
    assert result.settings["regions"][0]["found"] == 0 and result.steps_run == 0


def test_upscale_before_and_after(edit_ctx):
    image = faces_picture()
    after = enhance.enhance(edit_ctx, enhance.EnhanceRequest(image, upscale="after", diffusion=QUICK))
    before = enhance.enhance(edit_ctx, enhance.EnhanceRequest(image, upscale="before", diffusion=QUICK))
    assert after.image.size == before.image.size == (640, 320)
    assert after.settings["upscale"] == "after" and before.settings["upscale"] == "before"
    # After: the regions were searched on the picture as given; before: on the 2× one (whose tiny
    # upscaler's noise the detector twin reads as more faces, out where the small picture ends).
    boxes_after, boxes_before = ([item["box"] for item in result.settings["regions"][0]["enhanced"]]
                                 for result in (after, before))
    assert boxes_after and all(right <= 320 and bottom <= 160 for _, _, right, bottom in boxes_after)
    assert any(right > 320 or bottom > 160 for _, _, right, bottom in boxes_before)


def test_nothing_to_find_and_a_denoise_too_low_are_refused_before_any_work(edit_ctx, monkeypatch):
    monkeypatch.setattr(work, "run", lambda *a, **k: pytest.fail("the diffusion started"))
    with pytest.raises(BadInput, match="Nothing to enhance"):
        enhance.enhance(edit_ctx, enhance.EnhanceRequest(faces_picture(), region_1_find=" ", diffusion=QUICK))
    with pytest.raises(BadInput, match="Region 2 denoise 0.2 with 4 steps runs no step at all"):
        enhance.enhance(edit_ctx, enhance.EnhanceRequest(faces_picture(), region_2_find="hand", region_2_denoise=0.2,
                                                         diffusion=QUICK))


def test_progress_names_each_region_and_cancel_stops(edit_ctx, tmp_path):
    from studio.progress import Cancelled, Progress, Task

    long_run = work.Diffusion(seed=2, steps=150)
    task = Task(lambda task: enhance.enhance(edit_ctx, enhance.EnhanceRequest(faces_picture(), diffusion=long_run),
                                             tmp_path, task))
    seen = []
    with pytest.raises(Cancelled):
        for event in task.events():
            if isinstance(event, Progress):
                seen.append(str(event.label))
            if any(label.startswith("enhancing face (1 of 2)") for label in seen):
                task.cancel()
    task.join(30)
    assert not task.running and seen[0] == "looking for face"
    assert not any("(2 of 2)" in label for label in seen)  # stopped within the first face
    assert list(tmp_path.rglob("*.png")) == []  # nothing half-done was saved


def test_the_tool_is_in_the_app_with_its_parameters(tiny_cache_dir, tmp_path):
    import tabs
    from gradio.utils import get_upload_folder

    from studio.context import StudioContext
    from studio.settings import load_settings

    settings = load_settings(["--profile", "tiny", "--cache-dir", str(tiny_cache_dir), "--outputs",
                              str(tmp_path / "outputs")], env={})
    demo = tabs.build_app(StudioContext(settings))
    endpoint = demo.get_api_info()["named_endpoints"]["/enhance"]
    parameters = {p["parameter_name"]: p for p in endpoint["parameters"]}
    assert {"image", "region_1_find", "region_1_prompt", "region_1_denoise", "region_1_grow", "region_3_find",
            "upscale", "box_threshold", "prompt", "checkpoint", "seed", "steps"} <= set(parameters)
    assert parameters["upscale"]["type"]["enum"] == ["none", "before", "after"]
    assert parameters["region_1_find"]["parameter_default"] == "face"
    blocks = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    assert {"edit-enhance-run", "edit-enhance-region-1-find", "edit-enhance-upscale"} <= blocks
    folder = Path(get_upload_folder()) / f"enhance-{tmp_path.name}"
    folder.mkdir(parents=True, exist_ok=True)
    photo = folder / "faces.png"
    faces_picture().save(photo)
    functions = {fn.api_name: fn.fn for fn in demo.fns.values() if fn.api_name}
    answer = functions["enhance"](image={"path": str(photo)}, steps=4, seed=3)
    assert answer["tool"] == "enhance" and answer["parameters"]["edit"]["regions"][0]["found"] == 2


def test_the_image_tabs_enhance_redraws_each_new_image_with_its_own_prompt_and_seed(edit_ctx, tmp_path):
    from studio.image.request import ImageResult
    from studio.progress import Task

    made = [ImageResult(faces_picture(), seed=seed, prompt=f"portrait {seed}", negative_prompt="blurry",
                        parameters={"request": {"checkpoint": QUICK.checkpoint, "steps": QUICK.steps,
                                                "performance": "Speed"}})
            for seed in (11, 12)]
    settings = enhance.EnhanceRequest(enhance.GENERATED, region_1_grow=4, mask_feather=6)
    delivered = []
    task = Task(lambda task: None)
    task.deliver = delivered.append  # what the Image tab's gallery receives, as each is saved
    enhanced = enhance.enhance_generated(edit_ctx, settings, made, tmp_path, task)
    assert delivered == enhanced and len(enhanced) == 2
    for original, result in zip(made, enhanced):
        assert result.path and tmp_path in Path(result.path).parents
        saved = metadata.read_parameters(result.path)["studio"]
        assert saved["request"]["seed"] == original.seed and saved["request"]["prompt"] == original.prompt
        assert saved["request"]["negative_prompt"] == "blurry" and saved["edit"]["tool"] == "enhance"
        assert changed(original.image, result.image).any()
