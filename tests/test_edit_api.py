"""/upscale, /vary, /inpaint and /outpaint through gradio_client against the app in the tiny
profile: sizes, the original kept, results fed back in, and bad input answered with a sentence
while the server stays up."""

from __future__ import annotations

import numpy as np
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from tests.edit_helpers import picture

QUICK = dict(seed=7, steps=3)


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    path = tmp_path_factory.mktemp("edit-api") / "photo.png"
    picture(80, 56).save(path)
    return path


def test_upscale_fast_2x_and_2x_with_refine(api, photo):
    fast = api.predict(image=handle_file(str(photo)), mode="Upscale (Fast 2×)", api_name="/upscale")
    assert Image.open(fast["image"]).size == (160, 112) and fast["steps_run"] == 0
    assert fast["parameters"]["edit"]["architecture"] == "ESRGAN"
    refined = api.predict(image=handle_file(str(photo)), mode="Upscale (1.5×)", tile_size=32, tile_overlap=8,
                          prompt="sharp details", api_name="/upscale", **QUICK)
    assert Image.open(refined["image"]).size == (120, 84)
    assert refined["steps_run"] == int(3 * 0.382) and refined["parameters"]["edit"]["tiles"] == 6
    assert "Denoising strength: 0.382" in Image.open(refined["image"]).info["parameters"]
    # The upscaler is a shared-cache entry like any model: the Models tab lists it.
    models = api.predict(api_name="/models_status")["models"]
    assert any(m["name"] == "upscaler" and m["model"] == "tiny:esrgan-x4" and m["size_mb"] > 0 for m in models)


def test_vary_runs_the_steps_its_denoise_asks_for(api, photo):
    subtle = api.predict(image=handle_file(str(photo)), strength="subtle", api_name="/vary", seed=7, steps=10)
    strong = api.predict(image=handle_file(str(photo)), strength="strong", api_name="/vary", seed=7, steps=10)
    assert (subtle["steps_run"], strong["steps_run"]) == (5, 8)
    assert Image.open(subtle["image"]).size == (80, 56)


def test_inpaint_keeps_the_pixels_outside_the_feathered_mask(api, photo, tmp_path):
    mask = Image.new("L", (80, 56), 0)
    mask.paste(255, (30, 20, 50, 40))
    mask_path = tmp_path / "mask.png"
    mask.save(mask_path)
    answer = api.predict(image=handle_file(str(photo)), mask=handle_file(str(mask_path)), prompt="a red door",
                         mask_grow=2, mask_feather=2, api_name="/inpaint", **QUICK)
    before, after = np.asarray(Image.open(photo).convert("RGB")), np.asarray(Image.open(answer["image"]).convert("RGB"))
    assert after.shape == before.shape
    assert np.array_equal(after[:10], before[:10]) and np.array_equal(after[:, :20], before[:, :20])
    assert not np.array_equal(after[25:35, 35:45], before[25:35, 35:45])


def test_outpaint_right_then_outpaint_the_result_again(api, photo):
    first = api.predict(image=handle_file(str(photo)), right=30, unit="%", api_name="/outpaint", **QUICK)
    assert Image.open(first["image"]).size == (80 + 24, 56)  # 30% of 80 = 24 px, a multiple of 8
    again = api.predict(image=handle_file(first["image"]), left=20, top=8, api_name="/outpaint", **QUICK)
    grown = np.asarray(Image.open(again["image"]).convert("RGB"))
    assert grown.shape[:2] == (56 + 8, 104 + 24)  # left 20 px rounded up to 24
    assert np.array_equal(grown[8:, 24:], np.asarray(Image.open(first["image"]).convert("RGB")))
    assert any("20 px → 24 px" in note for note in again["notes"])


@pytest.mark.parametrize(
    "api_name,fields,message",
    [
        ("/outpaint", dict(), "All four margins are 0"),
        ("/upscale", dict(mode="Upscale (9×)"), "Mode must be one of"),
        ("/upscale", dict(upscaler_model="nobody/nothing/file.pth"), "no offline twin"),
        ("/vary", dict(denoise=7), "between 0.01 and 1"),
    ],
)
def test_bad_requests_come_back_as_sentences(api, photo, api_name, fields, message):
    with pytest.raises(AppError, match=message):
        api.predict(image=handle_file(str(photo)), api_name=api_name, **fields)


def test_wrong_files_come_back_as_sentences_and_the_server_stays_up(api, photo, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a picture")
    with pytest.raises(AppError, match="is not a picture this app can read"):
        api.predict(image=handle_file(str(text)), strength="subtle", api_name="/vary")
    small_mask = tmp_path / "small.png"
    Image.new("L", (10, 10), 255).save(small_mask)
    with pytest.raises(AppError, match="the mask must have the image's size"):
        api.predict(image=handle_file(str(photo)), mask=handle_file(str(small_mask)), api_name="/inpaint")
    empty_mask = tmp_path / "empty.png"
    Image.new("L", (80, 56), 0).save(empty_mask)
    with pytest.raises(AppError, match="The mask is empty"):
        api.predict(image=handle_file(str(photo)), mask=handle_file(str(empty_mask)), api_name="/inpaint")
    assert api.predict(image=handle_file(str(photo)), api_name="/upscale")["width"] == 160


SERVER_PATHS = {
    "a bare path string": ("/upscale", lambda photo: dict(image=str(photo))),
    "a FileData-shaped dict without Gradio's meta": ("/vary", lambda photo: dict(image={"path": str(photo)})),
    "a system file": ("/outpaint", lambda photo: dict(image={"path": "/etc/hostname"}, right=8)),
    "the mask, checked like the image": ("/inpaint", lambda photo: dict(image=handle_file(str(photo)),
                                                                        mask={"path": str(photo)})),
}


@pytest.mark.parametrize("case", list(SERVER_PATHS))
def test_a_path_on_the_server_is_refused_with_a_sentence(api, photo, case):
    """A script must upload its files: naming a server path (another user's outputs, say) is refused."""
    api_name, fields = SERVER_PATHS[case]
    with pytest.raises(AppError, match=r"must be uploaded \(gradio_client's handle_file\(\)\), not named by a path "
                                       r"on the server"):
        api.predict(api_name=api_name, **fields(photo))


def test_a_missing_file_is_named_in_the_sentence(api):
    with pytest.raises(AppError, match="The picture to enlarge is missing: send it with gradio_client's handle_file"):
        api.predict(image=None, api_name="/upscale")
