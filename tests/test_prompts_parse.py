"""The reply parser: messy replies from real-world shapes (fixtures), junk that must fall
back, and property-based junk that must never raise."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from studio.prompts.parse import looks_like_prompt, parse_reply

FIXTURES = Path(__file__).parent / "fixtures" / "prompt_replies"
FOX = "a red fox standing in deep snow, wildlife photograph, soft morning light, close-up, detailed fur"
NEGATIVE = "blurry, low quality, watermark"
GOOD = sorted(p for p in FIXTURES.glob("*.txt") if not p.name.startswith("junk"))
JUNK = sorted(FIXTURES.glob("junk*.txt"))
WITH_NEGATIVE = {"01", "04", "05", "07", "08", "09", "11"}


def test_there_are_at_least_ten_messy_shapes():
    assert len(GOOD) >= 10 and len(JUNK) >= 3


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.stem)
def test_each_messy_reply_gives_the_prompt_and_its_negative(path):
    parsed = parse_reply(path.read_text(encoding="utf-8"))
    assert parsed is not None
    assert parsed.positive == FOX
    assert parsed.negative == (NEGATIVE if path.stem[:2] in WITH_NEGATIVE else "")


@pytest.mark.parametrize("path", JUNK, ids=lambda p: p.stem)
def test_junk_is_reported_as_no_prompt(path):
    assert parse_reply(path.read_text(encoding="utf-8")) is None


def test_a_json_reply_with_other_keys_or_broken_json_is_handled():
    assert parse_reply('{"english": "a cat on a roof, oil painting"}').positive == "a cat on a roof, oil painting"
    # Unclosed JSON is read as a labelled line.
    assert parse_reply('{"prompt": "a cat on a roof, oil painting"').positive == "a cat on a roof, oil painting"
    assert parse_reply("[1, 2, 3]") is None


def test_a_non_english_negative_is_dropped_but_the_prompt_kept():
    parsed = parse_reply("Prompt: a cat on a roof, oil painting\nNegative: 模糊，低品質")
    assert parsed.positive == "a cat on a roof, oil painting" and parsed.negative == ""


def test_looks_like_prompt_wants_english_words_of_a_sensible_length():
    assert looks_like_prompt("a cat, oil painting")
    assert not looks_like_prompt("cat")
    assert not looks_like_prompt("一隻貓 cat")
    assert not looks_like_prompt("cat " * 400)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_never_raises_and_gives_a_prompt_or_none(reply):
    parsed = parse_reply(reply)
    assert parsed is None or looks_like_prompt(parsed.positive)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([
    "Prompt:", "Negative:", "```", "```json", "{", "}", '"prompt": ', "<think>", "</think>", "Here is your prompt:",
    "**", "- ", "1.", "\n", " ", "a red fox", "雪地", ",", "“", "”", "null", "[", "]", "：",
]), max_size=30).map("".join))
def test_fragments_of_the_known_shapes_never_raise(reply):
    parsed = parse_reply(reply)
    assert parsed is None or looks_like_prompt(parsed.positive)


def test_objects_that_are_not_text_do_not_raise():
    assert parse_reply(None) is None
    assert parse_reply(12345) is None
