"""Event wiring of the assembled app: GPU work shares one queue, every action is scriptable."""

from __future__ import annotations

import pytest

GPU_WORK = {"generate", "next_token", "sample_next_token", "image_tokens"}
PUBLIC_API = GPU_WORK | {"tokenize", "compare_tokenizers", "softmax", "models_status", "models_free"}


@pytest.fixture(scope="module")
def demo(tiny_cache_dir, tmp_path_factory):
    import tabs
    from studio.context import StudioContext
    from studio.settings import load_settings

    settings = load_settings(
        ["--profile", "tiny", "--concurrency", "2", "--cache-dir", str(tiny_cache_dir),
         "--outputs", str(tmp_path_factory.mktemp("out"))],
        env={},
    )
    studio = StudioContext(settings)
    demo = tabs.build_app(studio)
    demo.test_studio = studio
    return demo


def test_every_documented_endpoint_is_public(demo):
    public = {fn.api_name for fn in demo.fns.values() if fn.api_visibility == "public"}
    assert PUBLIC_API <= public


def test_gpu_work_shares_one_queue_with_the_configured_limit(demo):
    from tabs.common import GPU_EVENTS_ADMITTED

    gpu = [fn for fn in demo.fns.values() if fn.concurrency_id == "gpu"]
    assert {fn.api_name for fn in gpu} >= GPU_WORK
    # Gradio lets more GPU events in than the GPU has slots: they take turns in the studio's fair
    # queue, which runs --concurrency of them at once.
    assert all(fn.concurrency_limit == GPU_EVENTS_ADMITTED for fn in gpu)
    assert demo.test_studio.gpu_queue.slots == 2
    # The UI's own buttons for GPU work (streaming generate, explorer, image upload) queue there too.
    assert any(fn.api_name.startswith("ui_generate") for fn in gpu)
    assert any(fn.api_name.startswith("show_image") for fn in gpu)


def test_light_events_do_not_wait_behind_the_gpu_queue(demo):
    light = [fn for fn in demo.fns.values() if fn.api_name in ("tokenize", "models_status")]
    assert light and all(fn.concurrency_id != "gpu" for fn in light)


def test_forced_language_builds_plain_chinese_labels(tiny_cache_dir, tmp_path):
    import tabs
    from studio.context import StudioContext
    from studio.settings import load_settings

    settings = load_settings(
        ["--profile", "tiny", "--lang", "zh-TW", "--cache-dir", str(tiny_cache_dir), "--outputs", str(tmp_path)],
        env={},
    )
    demo = tabs.build_app(StudioContext(settings))
    labels = {getattr(block, "label", None) for block in demo.blocks.values()}
    assert {"模型", "關於"} <= labels
    assert demo.studio_translator.gradio_i18n is None  # no browser-side switching when forced
