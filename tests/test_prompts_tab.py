"""The Prompt tab's wiring: public endpoints on the GPU queue, labels in both languages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tabs.common import GPU_EVENTS_ADMITTED

I18N = Path(__file__).resolve().parents[1] / "assets" / "i18n" / "prompt.json"


def build(tiny_cache_dir, outputs, lang="auto"):
    import tabs
    from studio.context import StudioContext
    from studio.settings import load_settings

    settings = load_settings(
        ["--profile", "tiny", "--concurrency", "2", "--lang", lang, "--cache-dir", str(tiny_cache_dir),
         "--outputs", str(outputs)], env={},
    )
    return tabs.build_app(StudioContext(settings))


@pytest.fixture(scope="module")
def demo(tiny_cache_dir, tmp_path_factory):
    return build(tiny_cache_dir, tmp_path_factory.mktemp("out"))


def test_the_tab_follows_the_image_tab(demo):
    import tabs

    assert tabs.TAB_MODULES.index("tabs.prompt") > tabs.TAB_MODULES.index("tabs.image")


def test_endpoints_are_public_and_share_the_gpu_queue(demo):
    by_name = {fn.api_name: fn for fn in demo.fns.values()}
    for name in ("expand_prompt", "describe_image"):
        assert by_name[name].api_visibility == "public"
        assert by_name[name].concurrency_id == "gpu" and by_name[name].concurrency_limit == GPU_EVENTS_ADMITTED


def test_every_label_has_both_languages():
    data = json.loads(I18N.read_text(encoding="utf-8"))
    assert set(data["en"]) == set(data["zh-TW"])
    assert all(value.strip() for locale in data.values() for value in locale.values())


def test_forced_chinese_builds_chinese_labels(tiny_cache_dir, tmp_path):
    labels = {getattr(block, "label", None) for block in build(tiny_cache_dir, tmp_path, "zh-TW").blocks.values()}
    assert {"提示詞", "英文提示詞", "負面提示詞"} <= labels
