"""CLIP's 77-token window, counted with the image model's own tokenizer (the tiny SDXL twin's
here) and trimmed at phrase boundaries, never inside a word."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings, strategies as st

from studio.prompts import clip_window

PHRASES = ["a lighthouse on a cliff", "stormy sea", "dramatic lighting", "oil painting", "unbelievably intricate",
           "wide angle", "crashing waves", "seagulls", "golden hour", "highly detailed"]


@pytest.fixture(scope="module")
def clip(studio_ctx):
    return clip_window.clip_tokenizer(studio_ctx)


@pytest.fixture(scope="module")
def twin_tokenizer(studio_ctx):
    from transformers import CLIPTokenizer

    from studio.models import tiny

    return CLIPTokenizer.from_pretrained(tiny.ensure_built("sdxl", studio_ctx.settings.tiny_dir) / "tokenizer")


def test_the_tokenizer_is_the_sdxl_twins_own_and_comes_from_the_cache(studio_ctx, clip, twin_tokenizer):
    spec = clip_window.tokenizer_spec(studio_ctx)
    assert (spec.kind, spec.source, spec.subfolder) == ("tokenizer", "tiny:sdxl", "tokenizer")
    assert clip_window.clip_tokenizer(studio_ctx) is clip  # a cache hit, not a second load
    text = "a lighthouse on a cliff, stormy sea, 炎龍老師很幽默"
    assert clip_window.count(clip, text) == len(twin_tokenizer(text)["input_ids"])
    assert clip.get_vocab() == twin_tokenizer.get_vocab()


def test_a_short_prompt_is_left_alone(clip):
    cut = clip_window.trim(clip, "a lighthouse, stormy sea")
    assert cut.text == "a lighthouse, stormy sea" and not cut.trimmed and cut.tokens == cut.original_tokens


def test_a_long_prompt_is_cut_after_a_whole_phrase(clip):
    text = ", ".join(PHRASES * 4)
    cut = clip_window.trim(clip, text)
    assert cut.trimmed and cut.tokens <= 77 < cut.original_tokens
    assert text.startswith(cut.text) and text[len(cut.text)] == ","
    assert clip_window.count(clip, cut.text) == cut.tokens
    # The next phrase would not have fitted.
    next_phrase = text[len(cut.text):].split(",")[1]
    assert clip_window.count(clip, cut.text + "," + next_phrase) > 77


def test_one_endless_phrase_is_cut_between_words(clip):
    text = " ".join(["unbelievable"] * 120)
    cut = clip_window.trim(clip, text)
    assert cut.tokens <= 77 and cut.text and set(cut.text.split()) == {"unbelievable"}
    assert text[len(cut.text)] == " "


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(PHRASES + ["x", "très détaillé", "雪地裡的紅狐狸", "extraordinarily"]),
                min_size=1, max_size=40), st.sampled_from([", ", " ", ","]))
def test_trimming_never_cuts_inside_a_word(clip, pieces, joiner):
    text = joiner.join(pieces)
    cut = clip_window.trim(clip, text, limit=40)
    assert cut.tokens <= 40 or cut.text == ""
    assert text.startswith(cut.text)
    rest = text[len(cut.text):]
    assert rest == "" or cut.text == "" or re.match(r"[\s,]", rest)  # the cut sits between words
