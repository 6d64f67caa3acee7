"""The Prompt tab's API (/expand_prompt, /describe_image), driven with gradio_client against
`python app.py --profile tiny`."""

from __future__ import annotations

import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from tests.prompt_helpers import chat_server, closed_port_url  # noqa: F401  (fixture)

FOX_ZH = "一隻在雪地裡的紅狐狸，清晨"


def test_the_endpoints_name_their_parameters(api):
    endpoints = api.view_api(print_info=False, return_format="dict")["named_endpoints"]
    expand_names = [p["parameter_name"] for p in endpoints["/expand_prompt"]["parameters"]]
    assert expand_names[:8] == ["text", "length", "target", "temperature", "seed", "variants", "keep_english",
                                "trim_to_77_tokens"]
    assert [p["parameter_name"] for p in endpoints["/describe_image"]["parameters"]] == ["image", "mode"]


def test_expand_prompt_through_an_endpoint(api, chat_server):
    result = api.predict(text=FOX_ZH, seed=5, variants=2, backend="openai", endpoint_url=chat_server.url,
                         endpoint_model="served-model", api_name="/expand_prompt")
    assert result["english_prompt"].startswith("a red fox standing in deep snow")
    assert result["negative_prompt"] == "blurry, low quality, watermark"
    assert 0 < result["clip_tokens"] <= 77 and result["language"] == "chinese" and result["expanded"]
    assert [v["seed"] for v in result["variants"]] == [5, 6]


def test_expand_prompt_on_the_tiny_llm_falls_back_clearly(api):
    result = api.predict(text=FOX_ZH, seed=1, api_name="/expand_prompt")
    assert result["language"] == "chinese"
    assert result["expanded"] or (result["english_prompt"] == FOX_ZH and "original text is kept" in result["notes"][0])


def test_english_is_kept(api):
    result = api.predict(text="a red fox in the snow", api_name="/expand_prompt")
    assert result["english_prompt"] == "a red fox in the snow" and not result["expanded"]


@pytest.mark.parametrize("kwargs,message", [
    ({"text": ""}, "empty"),
    ({"text": "雪" * 20_000}, "20,000 characters"),
    ({"text": FOX_ZH, "length": "huge"}, "Length must be one of"),
    ({"text": FOX_ZH, "backend": "openai", "endpoint_url": "ftp://x", "endpoint_model": "m"}, "http://"),
])
def test_expand_prompt_bad_input(api, kwargs, message):
    with pytest.raises(AppError, match=message):
        api.predict(**kwargs, api_name="/expand_prompt")


def test_expand_prompt_with_the_backend_down_says_so(api):
    result = api.predict(text=FOX_ZH, backend="openai", endpoint_url=closed_port_url(), endpoint_model="m",
                         api_name="/expand_prompt")
    assert result["english_prompt"] == FOX_ZH and "Cannot reach" in result["notes"][0]


def test_describe_image(api, tmp_path):
    path = tmp_path / "sky.png"
    Image.new("RGB", (200, 120), (40, 90, 220)).save(path)
    photo = api.predict(image=handle_file(str(path)), mode="photo", api_name="/describe_image")
    art = api.predict(image=handle_file(str(path)), mode="art", api_name="/describe_image")
    assert isinstance(photo, str) and photo.endswith("highly detailed") and "illustration" in art


def test_describe_image_bad_input(api, tmp_path):
    path = tmp_path / "sky.png"
    Image.new("RGB", (64, 64)).save(path)
    with pytest.raises(AppError, match="poster"):  # the radio's own check names the choices
        api.predict(image=handle_file(str(path)), mode="poster", api_name="/describe_image")
    with pytest.raises(AppError, match="picture to describe is missing"):
        api.predict(image=None, mode="photo", api_name="/describe_image")
