"""Every endpoint's numbers and choices, sent as a hostile script sends them: NaN and infinity as
raw JSON (Gradio's server takes them; gradio_client cannot send them) and a 200,000-character
choice. Each gets a short sentence of the studio's, never the generic fallback, a traceback or
an echo of the whole value."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from PIL import Image

MOST_CHARS = 600  # a sentence and its JSON envelope; a 200 kB echo is far past it
GENERIC = ("went wrong", "Traceback", "Could not preprocess", "(type: <class")


@pytest.fixture(scope="module")
def sweep(running_app):
    client = httpx.Client(base_url=running_app.url, timeout=120)
    info = client.get("/gradio_api/info").json()["named_endpoints"]
    picture = io.BytesIO()
    Image.new("RGB", (64, 64), (120, 90, 60)).save(picture, "PNG")
    path = client.post("/gradio_api/upload", files={"files": ("x.png", picture.getvalue(), "image/png")}).json()[0]
    upload = {"path": path, "meta": {"_type": "gradio.FileData"}, "orig_name": "x.png"}
    return client, info, upload


def _value_for(parameter: dict, upload: dict):
    if parameter.get("parameter_has_default"):
        return parameter.get("parameter_default")
    described = json.dumps(parameter.get("python_type", {}))
    if "FileData" in described or "filepath" in described:
        return upload
    return 1 if ("int" in described or "float" in described) else "a cat"


def _call(client: httpx.Client, name: str, data: list) -> str:
    started = client.post(f"/gradio_api/call{name}", content=json.dumps({"data": data}, allow_nan=True),
                          headers={"content-type": "application/json"})
    assert started.status_code == 200, started.text[:300]
    return client.get(f"/gradio_api/call{name}/{started.json()['event_id']}").text


def _top_level(schema: dict) -> list[dict]:
    """The schema and, for ``X | None``, its alternatives (not the fields of an object inside)."""
    return [schema, *schema.get("oneOf", []), *schema.get("anyOf", [])]


def _hostile_cases(info: dict) -> list[tuple[str, int, str, object]]:
    cases = []
    for name, endpoint in info.items():
        for index, parameter in enumerate(endpoint["parameters"]):
            options = _top_level(parameter.get("type") or {})
            if any(option.get("type") in ("number", "integer") for option in options):
                cases += [(name, index, parameter["parameter_name"], bad) for bad in (float("nan"), float("inf"))]
            elif any("enum" in option for option in options):
                cases.append((name, index, parameter["parameter_name"], "x" * 200_000))
            elif any(option.get("type") in ("object", "array") and "path" not in option.get("properties", {})
                     for option in options):  # settings, lists of styles or LoRAs: given a string
                cases.append((name, index, parameter["parameter_name"], "not a mapping"))
    return cases


def test_every_number_and_choice_gets_a_short_sentence(sweep):
    client, info, upload = sweep
    cases = _hostile_cases(info)
    assert len(cases) > 60  # every endpoint's numbers and choices, not a handful
    wrong = []
    for name, index, parameter, bad in cases:
        data = [_value_for(p, upload) for p in info[name]["parameters"]]
        data[index] = bad
        answer = _call(client, name, data)
        refused = "event: error" in answer
        if not refused or any(word in answer for word in GENERIC) or len(answer) > MOST_CHARS:
            wrong.append(f"{name} {parameter}={str(bad)[:8]}: {answer[:160]!r}")
    assert wrong == []
