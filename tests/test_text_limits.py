"""Every text field of the Text tab has a bound that fits what it is for, and a value past it
is refused with a sentence naming the limit (never echoing a giant value back)."""

from __future__ import annotations

import pytest

from studio.errors import BadInput
from studio.settings import load_settings
from studio.text import chat, limits, service
from studio.text.filtering import softmax_table
from studio.text.generate import checked_request, resolve_seed
from studio.text.remote import RemoteEndpoint
from studio.text.results import GenerationRequest
from studio.text.sampling import SamplingSettings, validate

GIANT = "x" * 200_000
LOCAL = load_settings(["--profile", "tiny"], env={})


def _refusal(call, *args, **kwargs) -> str:
    with pytest.raises(BadInput) as caught:
        call(*args, **kwargs)
    message = str(caught.value)
    assert len(message) < 300, message[:300]  # a sentence, not the value sent
    return message


def test_stop_strings_are_a_few_short_ones():
    eight = "\n".join(f"{i}" * limits.MAX_STOP_STRING_CHARS for i in range(8))
    assert len(validate(SamplingSettings(stop_strings=eight)).stop_strings) == 8
    assert "at most 8 stop strings" in _refusal(validate, SamplingSettings(stop_strings="\n".join("abcdefghi")))
    too_long = "y" * (limits.MAX_STOP_STRING_CHARS + 1)
    assert "each at most 64 characters" in _refusal(validate, SamplingSettings(stop_strings=too_long))
    assert "has 200,000 characters" in _refusal(SamplingSettings, stop_strings=GIANT)
    # Blank lines do not count as stop strings, but the box as a whole is bounded too.
    assert validate(SamplingSettings(stop_strings="\n\n。\n\n")).stop_strings == ("。",)
    assert "at most 8 stop strings" in _refusal(SamplingSettings, stop_strings="\n" * 200_000)


def test_prompt_and_system_prompt_limits():
    assert "100,000" in _refusal(chat.check_prompt, GIANT)
    for mode in ("chat", "completion"):  # the system prompt is bounded even where it is unused
        message = _refusal(checked_request, GenerationRequest("hi", mode, system_prompt=GIANT))
        assert "system prompt" in message and f"{limits.MAX_SYSTEM_PROMPT_CHARS:,}" in message
    ok = checked_request(GenerationRequest("hi", "chat", system_prompt="s" * limits.MAX_SYSTEM_PROMPT_CHARS))
    assert len(ok.system_prompt) == limits.MAX_SYSTEM_PROMPT_CHARS


def test_model_id_mode_and_decoding_are_short_words():
    assert "model id" in _refusal(checked_request, GenerationRequest("hi", "chat", model_id=GIANT))
    assert "Mode must be" in _refusal(checked_request, GenerationRequest("hi", GIANT))
    assert "Decoding must be" in _refusal(validate, SamplingSettings(decoding=GIANT))


@pytest.mark.parametrize("field, words", [
    ("base_url", "endpoint URL has 200,000 characters; the limit is 500"),
    ("model", "endpoint model name has 200,000 characters; the limit is 200"),
    ("api_key", "API key has 200,000 characters; the limit is 2,048"),
])
def test_endpoint_fields_are_bounded_whichever_backend(field, words):
    fields = {"base_url": "http://127.0.0.1:9/v1", "model": "m", "api_key": "", field: GIANT}
    assert words in _refusal(RemoteEndpoint.from_inputs, **fields)
    for backend in ("local", "openai"):
        assert words in _refusal(service.endpoint_for, LOCAL, backend, *fields.values())
    assert "Backend must be" in _refusal(service.endpoint_for, LOCAL, GIANT)


def test_backend_choice_bundles_the_four_fields_and_hides_the_key():
    choice = service.BackendChoice("openai", "http://127.0.0.1:9/v1", "m", "sk-secret")
    assert choice.endpoint(LOCAL) == RemoteEndpoint("http://127.0.0.1:9/v1", "m", "sk-secret")
    assert "sk-secret" not in repr(choice)
    assert service.BackendChoice().endpoint(LOCAL) is None  # local by default


@pytest.mark.parametrize("value", ["1e999", "9" * 200_000, GIANT, float("nan"), float("inf")])
def test_numbers_sent_as_odd_text_are_refused_not_crashed(value):
    assert "Seed must be a whole number" in _refusal(resolve_seed, value)
    assert "Temperature must be a" in _refusal(validate, SamplingSettings(temperature=value))
    assert "Top-k must be a" in _refusal(validate, SamplingSettings(top_k=value))


def test_numbers_as_short_text_still_work():
    assert resolve_seed("42") == 42 and resolve_seed(" 7 ") == 7
    settings = validate(SamplingSettings(temperature="0.5", top_k="5", max_new_tokens=12.0))
    assert (settings.temperature, settings.top_k, settings.max_new_tokens) == (0.5, 5, 12)
    assert "whole number" in _refusal(validate, SamplingSettings(top_k="2.5"))


def test_softmax_by_hand_is_bounded():
    assert "2,000" in _refusal(softmax_table, GIANT, 1.0)
    assert "At most 50 scores" in _refusal(softmax_table, ", ".join(["1"] * 51), 1.0)
    assert "Temperature must be a" in _refusal(softmax_table, "1, 2", GIANT)


def test_shown_shortens_what_an_error_repeats():
    assert limits.shown("poem") == "'poem'"
    short = limits.shown(GIANT)
    assert short.endswith("(200,000 characters)") and len(short) < 80
