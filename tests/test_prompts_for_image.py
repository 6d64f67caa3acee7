"""What the Image tab calls: expand for SDXL when the prompt is not English, never for
Z-Image; the prompt that comes back is what gets drawn, and the notes say why."""

from __future__ import annotations

import pytest

from studio.prompts.expand import ExpandOptions
from studio.prompts.for_image import expand_for_image, should_expand
from studio.text import service
from tests.prompt_helpers import chat_server, closed_port_url  # noqa: F401  (fixture)

FOX_ZH = "一隻在雪地裡的紅狐狸"


@pytest.mark.parametrize("prompt,family,expected", [
    (FOX_ZH, "sdxl", True),
    ("紅狐狸 in the snow", "sdxl", True),
    ("a red fox in the snow", "sdxl", False),
    (FOX_ZH, "sd15", True),
    (FOX_ZH, "zimage", False),  # Z-Image's Qwen encoder reads Chinese as it is
    ("", "sdxl", False),
])
def test_should_expand(prompt, family, expected):
    assert should_expand(prompt, family) is expected


def test_nothing_changes_where_no_expansion_is_needed(studio_ctx):
    assert expand_for_image(studio_ctx, FOX_ZH, "zimage", "blurry") == (FOX_ZH, "blurry", [])
    assert expand_for_image(studio_ctx, "a fox", "sdxl") == ("a fox", "", [])


def test_sdxl_gets_the_english_prompt_and_the_suggested_negative(studio_ctx, chat_server):
    endpoint = service.endpoint_for(studio_ctx.settings, "openai", chat_server.url, "served-model")
    prompt, negative, notes = expand_for_image(studio_ctx, FOX_ZH, "sdxl", "", ExpandOptions(seed=1), endpoint)
    assert prompt.startswith("a red fox standing in deep snow") and negative == "blurry, low quality, watermark"
    assert "Expanded into English from chinese" in notes[0] and prompt in notes[0]
    # The user's own negative prompt wins over the suggestion.
    assert expand_for_image(studio_ctx, FOX_ZH, "sdxl", "text, logo", None, endpoint)[1] == "text, logo"


def test_a_failure_leaves_the_prompt_as_it_was_with_a_note(studio_ctx):
    endpoint = service.endpoint_for(studio_ctx.settings, "openai", closed_port_url(), "served-model")
    prompt, negative, notes = expand_for_image(studio_ctx, FOX_ZH, "sdxl", "", None, endpoint)
    assert (prompt, negative) == (FOX_ZH, "") and "Cannot reach" in notes[0]


def test_a_prompt_too_long_to_expand_is_drawn_as_it_is(studio_ctx):
    long_prompt = FOX_ZH * 300
    prompt, negative, notes = expand_for_image(studio_ctx, long_prompt, "sdxl")
    assert prompt == long_prompt and "Not expanded" in notes[0] and "2,000" in notes[0]
