"""Traditional Chinese beyond the labels: option labels (presets, styles, edit modes, train tasks,
send-to targets, face regions), placeholders, the tiny banner and the run statuses are words of
the reader's language. With --lang auto they are i18n keys the browser resolves; forced to zh-TW
they are Chinese strings."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from studio.image import presets, styles
from tabs.i18n import I18N_DIR, Translator, style_key, translations

CJK = re.compile(r"[\u4e00-\u9fff]")


def build(tiny_cache_dir, outputs, lang):
    import tabs
    from studio.context import StudioContext
    from studio.settings import load_settings

    settings = load_settings(["--profile", "tiny", "--lang", lang, "--cache-dir", str(tiny_cache_dir),
                              "--outputs", str(outputs)], env={})
    return tabs.build_app(StudioContext(settings))


@pytest.fixture(scope="module")
def chinese(tiny_cache_dir, tmp_path_factory):
    return build(tiny_cache_dir, tmp_path_factory.mktemp("zh"), "zh-TW")


def by_id(demo, elem_id: str):
    return next(block for block in demo.blocks.values() if getattr(block, "elem_id", None) == elem_id)


def labels(component) -> list[str]:
    return [str(label) for label, _ in component.choices]


@pytest.mark.parametrize("elem_id", ["image-styles", "image-performance", "edit-upscale-mode", "image-send-target"])
def test_option_labels_are_chinese(chinese, elem_id):
    shown = labels(by_id(chinese, elem_id))
    assert shown and all(CJK.search(label) for label in shown), shown


def test_train_tasks_and_face_regions_are_chinese(chinese):
    radios = [block for block in chinese.blocks.values() if type(block).__name__ == "Radio"]
    values = {tuple(value for _, value in radio.choices): labels(radio) for radio in radios}
    assert all(CJK.search(label) for label in values[("causal_lm", "classification", "image_lora")])
    assert values[("box", "oval")] == ["方框", "橢圓"]


def test_the_banner_and_placeholders_are_chinese(chinese):
    banner = by_id(chinese, "tiny-banner")
    assert CJK.search(banner.value)
    for elem_id in ("image-prompt", "edit-prompt"):
        assert CJK.search(by_id(chinese, elem_id).placeholder)


def test_with_auto_the_browser_picks_the_language(tiny_cache_dir, tmp_path):
    from gradio.i18n import I18nData

    demo = build(tiny_cache_dir, tmp_path, "auto")
    for elem_id in ("image-styles", "image-performance", "edit-upscale-mode"):
        assert all(isinstance(label, I18nData) for label, _ in by_id(demo, elem_id).choices)


def test_every_style_has_a_chinese_name_and_description():
    for style in styles.all_styles().values():
        shown = style.translations["zh-TW"]
        assert CJK.search(shown["name"]) and CJK.search(shown["description"]), style.name
    assert translations()["zh-TW"][style_key("Cinematic")].startswith("電影感 — ")
    assert translations()["en"][style_key("Cinematic")].startswith("Cinematic — Film still")


def test_each_preset_label_names_its_steps():
    for name, preset in presets.PERFORMANCES.items():
        for locale in ("en", "zh-TW"):
            assert f"{preset.steps}" in Translator.text(f"image.perf.{name}", locale), (name, locale)


def test_statuses_read_in_the_readers_language():
    zh, en = Translator("auto").for_request(_Request("zh-TW,zh;q=0.9")), Translator("auto").for_request(_Request("en"))
    assert en("image.status_done").format(count=2) == "2 image(s) done."
    assert zh("image.status_done").format(count=2) == "完成 2 張圖。"
    assert CJK.search(zh("edit.status_done").format(width=8, height=8))


@pytest.mark.parametrize("path", sorted(I18N_DIR.glob("*.json")), ids=lambda p: p.name)
def test_every_key_has_both_languages(path: Path):
    """Each key of a file has an English and a Chinese string (the catalog's English is the
    catalog's own, added when the tables are merged)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    keys = set(data.get("en", {})) | set(data.get("zh-TW", {}))
    merged = translations()
    english = {key for key in keys if not key.startswith("errors.")}  # a refusal's English is its own sentence
    assert english - set(merged["en"]) == set() and keys - set(merged["zh-TW"]) == set()


def test_every_refusal_key_in_the_code_has_chinese_with_its_own_placeholders():
    """Each ``key="errors.…"`` a refusal carries is in assets/i18n/errors.json, and its Chinese
    template names only values the refusal gives (a missing one would fall back to English)."""
    import re
    import string

    root = Path(__file__).resolve().parents[1]
    zh = translations()["zh-TW"]
    used = set()
    for path in [*root.glob("studio/**/*.py"), *root.glob("tabs/**/*.py")]:
        used |= set(re.findall(r'"(errors\.[a-z_.%]+)"', path.read_text(encoding="utf-8")))
    used = {key for key in used if not key.endswith(".")}  # a prefix ("errors.unit.") is not a key
    assert used and used - set(zh) == set()
    refusal = {"errors.field_range": {"field", "low", "high", "unit", "value"},
               "errors.picture_too_large": {"size", "limit", "side"}}
    for key, names in refusal.items():
        assert {name for _, name, _, _ in string.Formatter().parse(zh[key]) if name} <= names, key
    assert all(CJK.search(zh[key]) for key in used if not key.startswith("errors.unit."))


def test_the_catalog_and_the_families_say_why_in_chinese():
    from studio.image.families import FAMILIES
    from studio.models import catalog

    zh = translations()["zh-TW"]
    assert all(CJK.search(zh[f"catalog.{entry.name}"]) for entry in catalog.CATALOG.values())
    for family in FAMILIES.values():
        for control in family.unused:
            assert CJK.search(zh[family.unused_key(control)]), (family.name, control)
        if family.image_prompt_note:
            assert CJK.search(zh[family.image_prompt_key]), family.name


class _Request:
    def __init__(self, language: str, cookie: str = ""):
        self.headers = {"accept-language": language, "cookie": cookie}


def test_the_pages_language_cookie_wins_over_the_browsers():
    from tabs.i18n import request_language

    assert request_language(_Request("en-US", cookie="a=1; studio-lang=zh-TW")) == "zh-TW"
    assert request_language(_Request("zh-TW", cookie="studio-lang=en")) == "en"
    assert request_language(_Request("zh-TW,zh;q=0.9", cookie="studio-lang=klingon")) == "zh-TW"  # unknown: ignored
    assert request_language(_Request("fr")) == "en"


def test_the_page_script_goes_first_in_the_html_head_only():
    import asyncio
    import threading

    from tabs.language import EARLY_SCRIPT, PageScript

    async def app(scope, receive, send):
        html = scope["path"] == "/"
        body = b"<!doctype html><html><head><title>x</title></head></html>" if html else b'{"ok": true}'
        kind = b"text/html; charset=utf-8" if html else b"application/json"
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    def get(path: str) -> tuple[dict, bytes]:
        sent: list[dict] = []

        async def send(message):
            sent.append(message)

        # In a thread of its own: a browser test in this process may keep an event loop running here.
        worker = threading.Thread(target=asyncio.run, args=(
            PageScript(app)({"type": "http", "method": "GET", "path": path}, None, send),))
        worker.start()
        worker.join()
        return dict(sent[0]["headers"]), b"".join(m.get("body", b"") for m in sent[1:])

    headers, body = get("/")
    assert body.startswith(b"<!doctype html><html><head>" + EARLY_SCRIPT.encode() + b"<title>")
    assert int(headers[b"content-length"]) == len(body)
    assert get("/gradio_api/info/")[1] == b'{"ok": true}'  # not HTML: untouched


def test_progress_labels_read_in_the_readers_language():
    from studio import progress

    tile = progress.label("tile", label=progress.label("upscale", scale=4), index=2, count=6)
    zh = Translator("zh-TW").plain
    assert str(tile) == "upscaling ×4 · tile 2 of 6"
    assert tile.worded(zh) == "放大 ×4 · 第 2 / 6 塊"
    assert set(progress.LABELS) == {key.split(".", 1)[1] for key in translations()["zh-TW"] if key.startswith("progress.")}


def test_a_training_jobs_status_reads_in_the_readers_language():
    from studio import jobs
    from tabs.train import status_markdown

    info = {"name": "coach", "task": "causal_lm", "base_model": "m", "state": "queued", "queue_position": 2,
            **jobs.message("queued")}
    zh = Translator("zh-TW").plain
    assert "排隊中" in status_markdown(info, zh) and "前面還有 2 個工作" in status_markdown(info, zh)
    assert "等待訓練名額" in status_markdown(info, zh)
    english = status_markdown(info)
    assert "**queued** · 2 job(s) ahead in the queue" in english and "Waiting for the training slot." in english
    failed = {**info, "state": "failed", "message": "CUDA said no", "message_key": None}
    assert "CUDA said no" in status_markdown(failed, zh) and "失敗" in status_markdown(failed, zh)
    assert set(jobs.MESSAGES) == {key.split(".", 2)[2] for key in translations()["zh-TW"] if key.startswith("train.msg.")}
