"""A self-describing API: view_api() lists each fixed choice as an enum, and /choices answers
the lists that change at run time. Against `python app.py --profile tiny` with gradio_client."""

from __future__ import annotations

import pytest

from studio.image import presets
from studio.image.edit import upscale
from studio.prompts import instructions
from studio.text.sampling import DECODING


@pytest.fixture(scope="module")
def endpoints(api):
    return api.view_api(print_info=False, return_format="dict")["named_endpoints"]


def enum_of(endpoints, endpoint: str, parameter: str) -> list:
    found = next(p for p in endpoints[endpoint]["parameters"] if p["parameter_name"] == parameter)
    schema = found["type"]
    return schema.get("enum") or next(option["enum"] for option in _options(schema) if "enum" in option)


def _options(schema: dict) -> list[dict]:
    """The alternatives of a union (Optional is written oneOf with null)."""
    return schema.get("anyOf", []) + schema.get("oneOf", [])


@pytest.mark.parametrize("endpoint, parameter, expected", [
    ("/generate_image", "performance", list(presets.PERFORMANCES)),
    ("/generate_image", "aspect_ratio", [presets.aspect_label(w, h) for w, h in presets.ASPECT_RATIOS]),
    ("/image_prompt_preview", "type", ["ImagePrompt", "PyraCanny", "CPDS", "FaceSwap"]),
    ("/upscale", "mode", list(upscale.MODES)),
    ("/vary", "strength", ["subtle", "strong"]),
    ("/outpaint", "unit", ["px", "%"]),
    ("/expand_prompt", "length", list(instructions.LENGTHS)),
    ("/expand_prompt", "target", ["sdxl", "zimage"]),
    ("/expand_prompt", "backend", ["local", "openai"]),
    ("/describe_image", "mode", ["photo", "art"]),
    ("/generate", "decoding", list(DECODING)),
    ("/generate", "mode", ["chat", "completion"]),
    ("/next_token", "backend", ["local", "openai"]),
    ("/swap_faces", "mask_region", ["box", "oval"]),
    ("/tokenize", "detail", ["compact", "full"]),
    ("/train_start", "task", ["causal_lm", "classification", "image_lora"]),
])
def test_view_api_lists_the_choices(endpoints, endpoint, parameter, expected):
    assert enum_of(endpoints, endpoint, parameter) == expected


def test_the_sampler_choices_cover_every_family_and_the_preset(endpoints):
    samplers = enum_of(endpoints, "/generate_image", "scheduler")
    assert samplers[0] == "" and {"DPM++ 2M Karras", "Euler a", "Flow Euler"} <= set(samplers)


def test_an_image_prompt_slot_is_described_with_its_types(endpoints):
    slots = next(p for p in endpoints["/generate_image"]["parameters"] if p["parameter_name"] == "image_prompts")
    item = next(option for option in _options(slots["type"]) if option.get("type") == "array")["items"]
    assert item["properties"]["type"]["enum"] == ["ImagePrompt", "PyraCanny", "CPDS", "FaceSwap"]
    assert {"image", "weight", "stop_at"} <= set(item["properties"])


def test_choices_lists_what_changes_at_run_time(api, running_app):
    before = api.predict(api_name="/choices")
    assert before["checkpoints"] and before["upscalers"] and before["text_models"] and before["tokenizers"]
    assert "Cinematic" in before["styles"] and len(before["styles"]) == 38
    assert set(before["face_models"]) == {"face_detector", "face_recogniser", "face_swapper", "face_restorer"}
    # A LoRA dropped into the shared folder (models/loras beside where the app runs) is offered at once.
    loras = running_app.log_path.parent / "models" / "loras"
    loras.mkdir(parents=True, exist_ok=True)
    (loras / "dropped-in.safetensors").write_bytes(b"")
    try:
        assert "dropped-in.safetensors" in api.predict(api_name="/choices")["loras"]
    finally:
        (loras / "dropped-in.safetensors").unlink()
