"""Saved generations: written with their parameters, read back into the same request."""

from __future__ import annotations

import json

import pytest

from studio.errors import BadInput
from studio.text import records, service
from studio.text.results import GenerationRequest
from studio.text.sampling import SamplingSettings


def test_a_saved_generation_reproduces_the_same_text(studio_ctx, tmp_path):
    settings = SamplingSettings("sample", 0.9, 20, 0.95, 0.0, max_new_tokens=12, stop_strings="")
    request = GenerationRequest("從前從前", "completion", "openai-community/gpt2", "", [], settings, 1234)
    result = service.run_generation(studio_ctx, request)
    path = records.save_generation(tmp_path, request, result)
    assert path.parent == tmp_path and path.name.startswith("text-") and path.suffix == ".json"

    loaded, seed = records.load_generation(path)
    assert seed == 1234 and loaded.settings == request.settings and loaded.prompt == request.prompt
    loaded.seed = seed
    again = service.run_generation(studio_ctx, loaded)
    assert again.text == result.text


def test_a_chat_record_keeps_the_system_prompt(studio_ctx, tmp_path):
    settings = SamplingSettings("greedy", max_new_tokens=4)
    request = GenerationRequest("hi", "chat", None, "be brief", [], settings, 1)
    result = service.run_generation(studio_ctx, request)
    saved = json.loads(records.save_generation(tmp_path, request, result).read_text())
    assert saved["system_prompt"] == "be brief" and saved["reply"] == result.text


@pytest.mark.parametrize(
    "content",
    [b"\x89PNG\r\n\x1a\n not json", b"{\"prompt\": 1}", b"[1, 2, 3]",
     b"{\"settings\": {\"temperature\": -4}, \"prompt\": \"x\"}", b"{\"settings\": \"abc\"}"],
)
def test_files_that_are_not_records_are_refused_clearly(tmp_path, content):
    path = tmp_path / "upload.json"
    path.write_bytes(content)
    with pytest.raises(BadInput):
        records.load_generation(path)
