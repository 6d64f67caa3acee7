"""Tiny twins: built once, deterministic, loaded through the same from_pretrained path."""

from __future__ import annotations

import pytest
from safetensors.torch import load_file

from studio.errors import BadInput, ModelUnavailable
from studio.models import catalog, tiny
from studio.settings import load_settings


def test_twin_round_trips_through_from_pretrained(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = tiny.ensure_built("qwen2-chat", tmp_path)
    assert (folder / "model.safetensors").is_file()
    model = AutoModelForCausalLM.from_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert type(model).__name__ == "Qwen2ForCausalLM"
    assert model.config.vocab_size == len(tokenizer)
    text = "炎龍老師很幽默 unbelievable\n"
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text  # byte-level: lossless
    assert "<|im_start|>assistant" in tokenizer.apply_chat_template(
        [{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True
    )


def test_twins_are_built_once_and_identically(tmp_path):
    first = tiny.ensure_built("gpt2", tmp_path / "one")
    stamp = (first / "model.safetensors").stat().st_mtime_ns
    assert tiny.ensure_built("gpt2", tmp_path / "one") == first
    assert (first / "model.safetensors").stat().st_mtime_ns == stamp  # not rebuilt
    second = tiny.ensure_built("gpt2", tmp_path / "two")
    a, b = load_file(first / "model.safetensors"), load_file(second / "model.safetensors")
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)


def test_every_registered_builder_is_importable():
    for name in tiny.builders():
        assert callable(tiny.builder(name))
    with pytest.raises(KeyError, match="no tiny twin"):
        tiny.builder("nope")


def test_catalog_maps_every_choice_to_a_registered_twin():
    for entry in catalog.CATALOG.values():
        assert entry.default in entry.twins
        for twin in entry.twins.values():
            assert twin in tiny.builders()


def test_spec_uses_twin_in_tiny_and_hub_id_in_standard(tmp_path):
    tiny_settings = load_settings(["--profile", "tiny"], env={}, cwd=tmp_path)
    standard = load_settings([], env={}, cwd=tmp_path)
    assert catalog.spec_for(tiny_settings, "text").source == "tiny:qwen2-chat"
    assert catalog.spec_for(standard, "text").source == catalog.CATALOG["text"].default
    assert catalog.spec_for(standard, "vq").subfolder == "vqvae"
    with pytest.raises(ModelUnavailable, match="no offline twin"):
        catalog.spec_for(tiny_settings, "text", "someone/unknown-model")


@pytest.mark.parametrize("typed", ["../../etc", "/etc/passwd", "a/b/c", "x" * 300, "  ", "~/models"])
def test_typed_ids_that_are_paths_or_garbage_are_refused(tmp_path, typed):
    standard = load_settings([], env={}, cwd=tmp_path)
    with pytest.raises(BadInput):
        catalog.spec_for(standard, "text", typed)


def test_local_folders_from_server_settings_are_trusted(tmp_path):
    standard = load_settings(["--model", f"text={tmp_path}"], env={}, cwd=tmp_path)
    assert catalog.spec_for(standard, "text").source == str(tmp_path)


def test_missing_hub_model_gives_a_clear_error_not_a_traceback(tmp_path, monkeypatch):
    from studio.context import StudioContext

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    ctx = StudioContext(load_settings(["--cache-dir", str(tmp_path)], env={}, cwd=tmp_path))
    spec = ctx.spec("text", "nobody/does-not-exist-1234")
    with pytest.raises(ModelUnavailable) as info:
        ctx.cache.get(spec)
    message = str(info.value)
    assert "nobody/does-not-exist-1234" in message and "--profile tiny" in message
    assert "Hugging Face cache" in message
    assert ctx.cache.stats()["models"] == []
