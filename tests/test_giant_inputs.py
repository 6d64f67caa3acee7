"""No single request holds the server for long: every string parameter of every API endpoint,
found from the client's own API description (so endpoints added later are covered too), gets
a 200,000-character value, and the answer (a result or a readable refusal) comes within
seconds. A slow answer here means a queue slot, or the GPU, held by one request."""

from __future__ import annotations

import time
from concurrent.futures import TimeoutError as FutureTimeout

import numpy as np
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image

GIANT = ("炎龍老師很幽默，unbelievable! " * 10_000)[:200_000]
# Seconds a giant value may add to a request on a 2-core machine (a refusal takes well under 1).
# An accepted request also does its normal work (e.g. /generate writes 128 tokens), so a slow
# accepted answer is compared with the same call with plain values.
ANSWER_WITHIN = 10.0
LONGEST_WAIT = 30.0  # then the request is cancelled and counted as hanging
SHORT_TEXT = "a cat"  # for other required text parameters, so the giant value is the only oddity
# Required parameters that are not strings and have no default, where a made-up value would be
# refused before the giant one is looked at; everything else is derived from the description.
REQUIRED_EXAMPLES = {
    ("/compare_tokenizers", "tokenizers"): ["openai-community/gpt2", "google-bert/bert-base-chinese"],
}


def schema_type(parameter: dict) -> str:
    return (parameter.get("type") or {}).get("type", "")


def is_file(parameter: dict) -> bool:
    return parameter.get("python_type", {}).get("type") == "filepath" or "FileData" in str(parameter.get("type"))


def is_text(parameter: dict) -> bool:
    """str, and Literal[...] of strings (listed choices: a script may still send anything)."""
    schema = parameter.get("type") or {}
    listed = schema.get("enum") or []
    return schema_type(parameter) == "string" or (bool(listed) and all(isinstance(v, str) for v in listed))


def holds_text(parameter: dict) -> bool:
    """A list of strings (e.g. tokenizer names, styles): the giant value goes in as one item."""
    schema = parameter.get("type") or {}
    options = schema.get("oneOf") or [schema]
    return any(o.get("type") == "array" and (o.get("items") or {}).get("type") == "string" for o in options)


def normal_value(endpoint: str, parameter: dict, image: str):
    """The value a plain call would send: the default, else a small valid stand-in."""
    name = parameter["parameter_name"]
    if is_file(parameter):
        return handle_file(image)
    if parameter.get("parameter_has_default"):
        return parameter.get("parameter_default")
    if (endpoint, name) in REQUIRED_EXAMPLES:
        return REQUIRED_EXAMPLES[(endpoint, name)]
    if is_text(parameter):
        return SHORT_TEXT
    return {"boolean": False, "integer": 0, "number": 0.0, "array": []}.get(schema_type(parameter))


def plain_kwargs(api_info: dict, endpoint: str, image: str) -> dict:
    parameters = api_info["named_endpoints"][endpoint]["parameters"]
    return {p["parameter_name"]: normal_value(endpoint, p, image) for p in parameters}


def giant_cases(api_info: dict, image: str):
    """(endpoint, parameter, keyword arguments) for every string parameter of every endpoint."""
    for endpoint, description in api_info["named_endpoints"].items():
        for target in description["parameters"]:
            if not (is_text(target) or holds_text(target)) or is_file(target):
                continue  # numbers, booleans, files: not strings
            kwargs = plain_kwargs(api_info, endpoint, image)
            name = target["parameter_name"]
            kwargs[name] = GIANT if is_text(target) else [GIANT, *(kwargs[name] or [])][:2]
            yield endpoint, name, kwargs


def timed_call(api, endpoint: str, kwargs: dict) -> tuple[float | None, str]:
    """Seconds to the answer (None: none within LONGEST_WAIT) and what it was."""
    started = time.monotonic()
    job = api.submit(**kwargs, api_name=endpoint)
    try:
        job.result(timeout=LONGEST_WAIT)
        outcome = "accepted"
    except AppError as exc:
        outcome = "refused: " + str(exc)[:100]
    except FutureTimeout:
        job.cancel()  # do not let it hold the queue for the endpoints after it
        return None, "no answer"
    return time.monotonic() - started, outcome


@pytest.fixture()
def small_png(tmp_path) -> str:
    path = tmp_path / "small.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (32, 48, 3), dtype=np.uint8)).save(path)
    return str(path)


def test_every_string_parameter_answers_a_giant_value_within_seconds(api, small_png):
    api.predict(text="warm up", api_name="/tokenize")  # the first event waits for the ML imports
    api_info = api.view_api(return_format="dict", print_info=False)
    cases = list(giant_cases(api_info, small_png))
    assert {"/tokenize", "/generate"} <= {endpoint for endpoint, _, _ in cases}  # the enumeration works
    plain_seconds: dict[str, float] = {}  # per endpoint, measured only when needed
    slow, report = [], []
    for endpoint, name, kwargs in cases:
        seconds, outcome = timed_call(api, endpoint, kwargs)
        allowed = ANSWER_WITHIN
        if seconds is not None and seconds > allowed and outcome == "accepted":
            if endpoint not in plain_seconds:
                plain = plain_kwargs(api_info, endpoint, small_png)
                plain_seconds[endpoint] = timed_call(api, endpoint, plain)[0] or 0.0
            allowed += plain_seconds[endpoint]
        shown = f">{LONGEST_WAIT:.0f}" if seconds is None else f"{seconds:.1f}"
        report.append(f"{endpoint} {name}: {shown} s (allowed {allowed:.1f}), {outcome}")
        if seconds is None or seconds > allowed:
            slow.append(report[-1])
    print("\n".join(report))  # shown with -s: every case's time
    assert not slow, "giant values that held a request too long:\n" + "\n".join(slow)
    # The server is still up and answers a plain request.
    assert api.predict(text="ok", api_name="/tokenize")["counts"]["characters"] == 2
