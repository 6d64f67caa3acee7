"""Expansion into English on the tiny twins (offline): the messages sent, the Text tab's
generation and cached model reused, English kept without the LLM, variants and seeds,
fallbacks with a message, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.context import StudioContext
from studio.errors import BadInput
from studio.prompts import instructions
from studio.prompts.expand import ExpandOptions, expand, generation_request
from studio.text import service
from studio.text.results import GenerationRequest
from tests.prompt_helpers import FOX_REPLY, chat_server, closed_port_url  # noqa: F401  (fixture)

FIXTURE = Path(__file__).parent / "fixtures" / "prompt_messages" / "fox_medium_sdxl.json"
FOX_ZH = "一隻在雪地裡的紅狐狸，清晨"
FOX_EN = "a red fox standing in deep snow, wildlife photograph, soft morning light, close-up, detailed fur"


def sdxl_clip_tokenizer(ctx):
    """The tiny SDXL twin's own CLIP tokenizer, read straight from its folder."""
    from transformers import CLIPTokenizer

    from studio.models import tiny

    return CLIPTokenizer.from_pretrained(tiny.ensure_built("sdxl", ctx.settings.tiny_dir) / "tokenizer")


def loads_of(ctx, kind: str) -> list[dict]:
    return [m for m in ctx.cache.stats()["models"] if m["kind"] == kind]


def test_the_messages_match_the_fixture_and_differ_per_target():
    assert instructions.messages(FOX_ZH, "medium", "sdxl") == json.loads(FIXTURE.read_text(encoding="utf-8"))
    zimage = instructions.messages(FOX_ZH, "short", "zimage")[0]["content"]
    assert "natural English sentences" in zimage and "10 to 20 words" in zimage


def test_the_request_is_a_chat_request_of_the_text_tab_with_our_system_prompt():
    request = generation_request(FOX_ZH, ExpandOptions(length="rich", temperature=0.0), seed=7)
    assert isinstance(request, GenerationRequest)
    assert request.mode == "chat" and request.seed == 7 and request.model_id is None
    assert request.system_prompt == instructions.system_prompt("rich", "sdxl")
    assert request.settings.decoding == "greedy" and request.settings.max_new_tokens == instructions.max_new_tokens("rich")


def test_an_endpoint_receives_exactly_those_messages_and_its_reply_is_parsed(studio_ctx, chat_server):
    endpoint = service.endpoint_for(studio_ctx.settings, "openai", chat_server.url, "served-model")
    result = expand(studio_ctx, FOX_ZH, ExpandOptions(seed=11, variants=2), endpoint)
    assert [body["messages"] for body in chat_server.bodies] == [json.loads(FIXTURE.read_text(encoding="utf-8"))] * 2
    assert [body["seed"] for body in chat_server.bodies] == [11, 12]  # variant i uses seed + i
    assert result.language.kind == "chinese"
    best = result.best
    assert best.expanded and best.prompt == FOX_EN and best.negative == "blurry, low quality, watermark"
    assert best.tokens == len(sdxl_clip_tokenizer(studio_ctx)(best.prompt)["input_ids"])


def test_english_kept_as_is_never_reaches_the_llm(tiny_settings):
    ctx = StudioContext(tiny_settings)  # its own cache: nothing loaded before
    result = expand(ctx, "a red fox in the snow, cinematic", ExpandOptions(keep_english=True))
    assert result.best.prompt == "a red fox in the snow, cinematic" and not result.best.expanded
    assert "not asked" in result.best.notes[0]
    assert loads_of(ctx, "causal_lm") == []
    assert [m["kind"] for m in ctx.cache.stats()["models"]] == ["tokenizer"]  # only CLIP's, to count


def test_expansion_reuses_the_text_tabs_cached_model(studio_ctx):
    from studio.text.generate import generate_text

    text_tab = GenerationRequest("你好", mode="chat", settings=service.SamplingSettings(max_new_tokens=4), seed=1)
    generate_text(studio_ctx, text_tab)  # what the Text tab does with its default model
    before = loads_of(studio_ctx, "causal_lm")
    misses = studio_ctx.cache.stats()["misses"]
    result = expand(studio_ctx, FOX_ZH, ExpandOptions(seed=3, variants=2))
    after = loads_of(studio_ctx, "causal_lm")
    assert [m["key"] for m in after] == [m["key"] for m in before]  # no second copy
    assert studio_ctx.cache.stats()["misses"] == misses  # nothing loaded at all
    assert sum(m["hits"] for m in after) > sum(m["hits"] for m in before)
    # The tiny twin writes random tokens: the original text comes back with the reason.
    assert [v.seed for v in result.variants] == [3, 4]
    for variant in result.variants:
        assert variant.expanded or (variant.prompt == FOX_ZH and "original text is kept" in variant.notes[0])


def test_a_backend_that_is_down_gives_the_original_text_and_says_why(studio_ctx):
    endpoint = service.endpoint_for(studio_ctx.settings, "openai", closed_port_url(), "served-model")
    result = expand(studio_ctx, FOX_ZH, ExpandOptions(variants=3), endpoint)
    assert [v.prompt for v in result.variants] == [FOX_ZH] * 3
    assert all("Cannot reach" in v.notes[0] and "original text is kept" in v.notes[0] for v in result.variants)


def test_trimming_keeps_whole_phrases_within_77_tokens(studio_ctx):
    long_english = ", ".join(f"detail number {i} of a busy market street" for i in range(20))
    result = expand(studio_ctx, long_english, ExpandOptions(trim=True))
    best = result.best
    assert best.tokens <= 77 and long_english.startswith(best.prompt)
    assert long_english[len(best.prompt)] == ","  # cut at a phrase boundary
    assert "Trimmed" in best.notes[-1]


@pytest.mark.parametrize("text,message", [
    ("", "empty"),
    ("   ", "empty"),
    ("雪" * 20_000, "20,000 characters"),
])
def test_bad_text_is_refused_with_a_sentence(studio_ctx, text, message):
    with pytest.raises(BadInput, match=message):
        expand(studio_ctx, text)


@pytest.mark.parametrize("options,message", [
    (ExpandOptions(length="huge"), "Length must be one of short, medium, rich"),
    (ExpandOptions(target="midjourney"), "Target must be one of sdxl, zimage, not 'midjourney'"),
    (ExpandOptions(variants=9), "Variants must be between 1 and 4"),
    (ExpandOptions(temperature=7), "Temperature must be between 0 and 2"),
    (ExpandOptions(seed="abc"), "Seed must be a number, not 'abc'"),
    (ExpandOptions(seed=2.5), "Seed must be a whole number"),
    (ExpandOptions(model_id="x" * 600), "600 characters long"),
])
def test_bad_options_are_refused_before_any_model_is_touched(tiny_settings, options, message):
    ctx = StudioContext(tiny_settings)
    with pytest.raises(BadInput, match=message):
        expand(ctx, FOX_ZH, options)
    assert ctx.cache.stats()["models"] == []


def test_without_a_clip_tokenizer_the_expansion_still_works(tmp_path, chat_server):
    """Standard profile, offline, SDXL never downloaded: nothing to count with, still an answer."""
    from studio.settings import load_settings

    settings = load_settings(["--cache-dir", str(tmp_path), "--outputs", str(tmp_path / "out")], env={})
    ctx = StudioContext(settings)
    endpoint = service.endpoint_for(settings, "openai", chat_server.url, "served-model")
    best = expand(ctx, FOX_ZH, ExpandOptions(seed=1), endpoint).best
    assert best.prompt == FOX_EN and best.tokens == 0 and "not counted" in best.notes[-1]
