"""Describe: an image to a prompt with the BLIP captioner twin from the shared cache."""

from __future__ import annotations

import pytest
from PIL import Image

from studio.errors import BadInput
from studio.prompts import describe


@pytest.fixture(scope="module")
def picture(tmp_path_factory):
    path = tmp_path_factory.mktemp("describe") / "red.png"
    Image.new("RGB", (320, 200), (200, 40, 30)).save(path)
    return path


def test_describe_returns_a_prompt_through_the_cache(studio_ctx, picture):
    photo = describe.describe(studio_ctx, str(picture), "photo")
    assert isinstance(photo, str) and photo.endswith(describe.MODES["photo"][1])
    art = describe.describe(studio_ctx, Image.open(picture), "Art / Anime")
    assert art.endswith(describe.MODES["art"][1])
    entries = [m for m in studio_ctx.cache.stats()["models"] if m["kind"] == "captioner"]
    assert len(entries) == 1 and entries[0]["model"] == "tiny:blip" and entries[0]["hits"] >= 1


def test_the_twin_is_a_real_blip_captioner(studio_ctx):
    captioner = studio_ctx.cache.get(studio_ctx.spec("describe"))
    assert type(captioner.model).__name__ == "BlipForConditionalGeneration"
    assert type(captioner.processor).__name__ == "BlipProcessor"
    dec = captioner.processor.tokenizer.convert_tokens_to_ids("[DEC]")
    assert captioner.model.config.text_config.bos_token_id == dec


def test_tidy_removes_the_prefix_blip_filler_and_repeats():
    prefix, extra = describe.MODES["photo"]
    assert describe.tidy("a photography of arafed cat cat on a sofa", prefix, extra) == f"cat on a sofa, {extra}"
    assert describe.tidy("", prefix, extra) == extra


@pytest.mark.parametrize("image,mode,message", [
    (None, "photo", "Upload an image first"),
    ("/no/such/file.png", "photo", "cannot be found"),
    ("NOT_AN_IMAGE", "photo", "not a picture this app can read"),
    ("RED", "poster", "Mode must be 'photo' or 'art'"),
])
def test_bad_input_gives_a_sentence(studio_ctx, tmp_path, picture, image, mode, message):
    if image == "NOT_AN_IMAGE":
        image = tmp_path / "notes.png"
        image.write_text("hello")
    elif image == "RED":
        image = picture
    with pytest.raises(BadInput, match=message):
        describe.describe(studio_ctx, image, mode)
