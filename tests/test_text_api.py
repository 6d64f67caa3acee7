"""The Text tab's API, driven with gradio_client against the app started in the tiny profile."""

from __future__ import annotations

import pytest
from gradio_client.exceptions import AppError

SMALL = {"max_new_tokens": 12}


def test_generate_returns_text_counts_and_speed(api):
    out = api.predict(prompt="炎龍老師很幽默", mode="chat", seed=42, api_name="/generate", **SMALL)
    assert isinstance(out["text"], str)
    assert 0 < out["generated_tokens"] <= 12 and out["prompt_tokens"] > 3
    assert out["tokens_per_second"] > 0 and out["seed"] == 42
    assert out["prompt_seen"].startswith("<|im_start|>user\n炎龍老師很幽默")
    again = api.predict(prompt="炎龍老師很幽默", mode="chat", seed=42, api_name="/generate", **SMALL)
    assert again["text"] == out["text"]  # same seed + settings = same text, through the API too


def test_generate_completion_greedy_on_a_base_model(api):
    out = api.predict(
        prompt="從前從前", mode="completion", model_id="openai-community/gpt2", decoding="greedy",
        api_name="/generate", **SMALL,
    )
    assert out["generated_tokens"] == 12 and out["seed"] is None and out["stopped_by"] == "length"


def test_next_token_returns_the_candidate_table(api):
    out = api.predict(prompt="從前從前", top_k=3, number_of_candidates=8, api_name="/next_token")
    rows = out["candidates"]
    assert len(rows) == 8 and out["kept_count"] == 3 and out["vocabulary_size"] > 100
    assert [r["kept"] for r in rows] == [True] * 3 + [False] * 5
    assert sum(r["filtered_probability"] for r in rows) == pytest.approx(1.0, abs=1e-5)
    assert {"token", "token_id", "logit", "probability", "filtered_probability"} <= set(rows[0])


def test_sample_next_token_and_softmax(api):
    out = api.predict(prompt="從前從前", top_k=5, seed=3, api_name="/sample_next_token")
    assert out["prompt"].startswith("從前從前") and out["seed"] == 3
    table = api.predict(scores="2, 1, 0.1", temperature=1.0, api_name="/softmax")
    assert [round(row[2], 3) for row in table["data"]] == [0.659, 0.242, 0.099]


@pytest.mark.parametrize(
    "args, words",
    [
        ({"prompt": ""}, "empty"),
        ({"prompt": "x" * 100_001}, "100,000"),
        ({"prompt": "hi", "max_new_tokens": 0}, "Max new tokens"),
        ({"prompt": "hi", "max_new_tokens": -5}, "Max new tokens"),
        ({"prompt": "hi", "top_p": 0.0}, "Top-p"),
        ({"prompt": "hi", "top_p": 1.5}, "Top-p"),
        ({"prompt": "hi", "model_id": "no-such/model"}, "no-such/model"),
    ],
)
def test_bad_input_is_a_clear_error_and_the_server_stays_up(api, args, words):
    with pytest.raises(AppError, match=words):
        api.predict(api_name="/generate", **args)
    assert api.predict(scores="1, 2", temperature=1.0, api_name="/softmax")["data"]  # still serving


def test_next_token_bad_input(api):
    with pytest.raises(AppError, match="Top-p"):
        api.predict(prompt="hi", top_p=2.0, api_name="/next_token")
    with pytest.raises(AppError, match="does not return token probabilities|Cannot reach"):
        api.predict(prompt="hi", backend="openai", endpoint_url="http://127.0.0.1:9/v1", endpoint_model="m",
                    api_name="/next_token")


GIANT = "x" * 200_000
TEXT_ENDPOINTS = ("/generate", "/next_token", "/sample_next_token", "/softmax")
REQUIRED = {"/generate": {"prompt": "hi", "max_new_tokens": 4}, "/next_token": {"prompt": "hi"},
            "/sample_next_token": {"prompt": "hi"}, "/softmax": {"scores": "1, 2", "temperature": 1.0}}


def _string_parameters(api) -> list[tuple[str, str]]:
    endpoints = api.view_api(print_info=False, return_format="dict")["named_endpoints"]
    return [
        (name, p["parameter_name"])
        for name in TEXT_ENDPOINTS
        for p in endpoints[name]["parameters"]
        if p.get("python_type", {}).get("type") == "str" or p.get("python_type", {}).get("type", "").startswith("Literal[")
    ]  # a parameter with listed choices is a string too: a script may send anything


def test_every_string_parameter_of_the_text_endpoints_is_bounded(api):
    """A 200,000-character value in any string parameter is refused with a short sentence
    that names the limit; nothing is generated from it."""
    found = _string_parameters(api)
    assert len(found) >= 20 and ("/generate", "stop_strings") in found
    for endpoint, name in found:
        with pytest.raises(AppError) as refused:
            api.predict(api_name=endpoint, **{**REQUIRED[endpoint], name: GIANT})
        message = str(refused.value)
        assert len(message) < 400 and "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" not in message, (endpoint, name)


def test_stop_strings_limit_is_said_in_the_refusal(api):
    with pytest.raises(AppError, match="at most 8 stop strings, one per line, each at most 64 characters"):
        api.predict(prompt="hi", stop_strings="y" * 65, api_name="/generate", **SMALL)
    out = api.predict(prompt="hi", stop_strings="\n".join(["。", "\nUser:"]), api_name="/generate", **SMALL)
    assert out["generated_tokens"] > 0


def test_endpoint_parameters_keep_their_names_and_order(api):
    """The public contract of scripts (README table): names, order, and a few defaults."""
    endpoints = api.view_api(print_info=False, return_format="dict")["named_endpoints"]
    names = {e: [p["parameter_name"] for p in endpoints[e]["parameters"]] for e in TEXT_ENDPOINTS}
    knobs = ["decoding", "temperature", "top_k", "top_p", "min_p"]
    backend = ["backend", "endpoint_url", "endpoint_model", "endpoint_api_key"]
    assert names["/generate"] == [
        "prompt", "mode", "model_id", "system_prompt", *knobs, "typical_p", "repetition_penalty",
        "no_repeat_ngram_size", "num_beams", "max_new_tokens", "seed", "stop_strings", *backend, "adapter",
    ]
    # New parameters go at the end, so scripts that pass arguments by position keep working.
    assert names["/next_token"] == ["prompt", "model_id", *knobs, "number_of_candidates", *backend, "adapter"]
    assert names["/sample_next_token"] == ["prompt", "model_id", *knobs, "seed", "adapter"]
    defaults = {p["parameter_name"]: p.get("parameter_default") for p in endpoints["/generate"]["parameters"]}
    assert defaults["mode"] == "chat" and defaults["seed"] == -1 and defaults["num_beams"] == 1
    assert defaults["stop_strings"] == "" and defaults["backend"] == "local" and defaults["temperature"] == 0.7
    types = {p["parameter_name"]: p["python_type"]["type"] for p in endpoints["/generate"]["parameters"]}
    assert (types["top_k"], types["temperature"], types["stop_strings"]) == ("int", "float", "str")
