"""/generate_image and /styles through gradio_client against the app in the tiny profile."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image


def test_styles_lists_at_least_thirty_with_descriptions(api):
    found = api.predict(api_name="/styles")
    assert len(found) >= 30
    assert all(s["description"] and "{prompt}" in s["prompt"] for s in found)


def test_generate_image_returns_files_with_seeds_and_metadata(api):
    answer = api.predict(prompt="a paper boat on a lake", styles=["Watercolor"], image_number=2, seed=123,
                         width=256, height=256, steps=2, api_name="/generate_image")
    images = answer["images"]
    assert [i["seed"] for i in images] == [123, 124]
    first = Image.open(images[0]["image"])
    assert first.size == (256, 256)
    assert images[0]["prompt"].startswith("watercolor painting of a paper boat on a lake")
    assert "Seed: 123" in first.info["parameters"]
    again = api.predict(prompt="a paper boat on a lake", styles=["Watercolor"], seed=124, width=256, height=256,
                        steps=2, api_name="/generate_image")["images"][0]
    assert np.array_equal(np.asarray(Image.open(again["image"])), np.asarray(Image.open(images[1]["image"])))


@pytest.mark.parametrize(
    "fields,message",
    [(dict(image_number=100), "between 1 and 8"), (dict(checkpoint="nobody/nothing"), "no offline twin"),
     (dict(aspect_ratio="7:5"), "Aspect ratio must be one of 1024×1024")],
)
def test_bad_requests_come_back_as_sentences(api, fields, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=message):
        api.predict(prompt="x", api_name="/generate_image", **fields)


def test_expand_into_english_never_blocks_a_generation(api):
    # The tiny LLM answers noise: the prompt goes through as it is, and the answer says why.
    answer = api.predict(prompt="雪地裡的紅狐狸", expand_into_english=True, seed=5, width=256, height=256, steps=1,
                         api_name="/generate_image")
    assert answer["prompt_expansion"]
    assert len(answer["images"]) == 1


def test_flux_schnell_draws_through_the_api_and_a_seed_reproduces(api):
    request = dict(prompt="a paper boat on a lake", checkpoint="black-forest-labs/FLUX.1-schnell", seed=7,
                   width=256, height=256, api_name="/generate_image")
    first = api.predict(**request)["images"][0]
    again = api.predict(**request)["images"][0]
    assert first["steps_run"] == 4  # the family's own 4 steps (its presets are SDXL's)
    assert "Model: \"FLUX.1-schnell" in Image.open(first["image"]).info["parameters"]
    assert np.array_equal(np.asarray(Image.open(first["image"])), np.asarray(Image.open(again["image"])))
