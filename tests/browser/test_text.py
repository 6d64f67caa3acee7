"""The Text tab in a real Chromium: generate with streaming, Stop, and the next-token explorer."""

from __future__ import annotations

import json
import re
import time

from tests.browser.conftest import assert_no_error_toast, open_tab, wait_for_text


def _set_number(page, elem_id: str, value) -> None:
    box = page.locator(f"#{elem_id} input[type='number']")
    box.fill(str(value))
    box.press("Enter")


def _bot_text(page) -> str:
    bot = page.locator("#text-chatbot .message-row.bot-row, #text-chatbot [data-testid='bot']")
    return bot.last.inner_text() if bot.count() else ""


def test_generate_streams_a_reply_with_stats(page):
    open_tab(page, "Text")
    page.locator("#text-prompt textarea").fill("炎龍老師很幽默嗎？")
    _set_number(page, "text-max-new-tokens", 24)
    page.locator("#text-generate-btn").click()
    wait_for_text(page, "text-stats", "tokens/s", timeout=60_000)
    assert _bot_text(page).strip()
    assert "炎龍老師很幽默嗎？" in page.locator("#text-chatbot").inner_text()
    assert page.locator("#text-tokens .text-token").count() > 0
    # Saved with its parameters, offered for download.
    page.locator("#text-record").get_by_text(re.compile(r"text-.*\.json")).wait_for()
    assert_no_error_toast(page)


def test_a_saved_record_loads_its_settings_back(page, tmp_path):
    open_tab(page, "Text")
    record = tmp_path / "text-saved.json"
    record.write_text(json.dumps({
        "mode": "completion", "prompt": "紅樓夢", "system_prompt": "", "history": [], "seed": 77,
        "model_id": "openai-community/gpt2",
        "settings": {"decoding": "sample", "temperature": 1.3, "top_k": 7, "top_p": 0.8, "min_p": 0.0,
                     "typical_p": 1.0, "repetition_penalty": 1.0, "no_repeat_ngram_size": 0,
                     "num_beams": 1, "max_new_tokens": 33, "stop_strings": []},
    }, ensure_ascii=False))
    with page.expect_file_chooser() as chooser:
        page.locator("#text-load-record").click()
    chooser.value.set_files(str(record))
    page.wait_for_function("() => document.querySelector('#text-seed input')?.value === '77'")
    assert page.locator("#text-top-k input[type='number']").input_value() == "7"
    page.locator("#text-completion").wait_for(state="visible")  # mode switched to completion
    assert page.locator("#text-prompt textarea").input_value() == "紅樓夢"
    assert_no_error_toast(page)


def test_stop_button_stops_the_stream(page, api):
    open_tab(page, "Text")
    page.get_by_label("Completion").check()
    page.get_by_label("Deterministic").check()  # greedy: the twin writes " time time ..." and never ends
    _set_number(page, "text-max-new-tokens", 4096)
    page.locator("#text-prompt textarea").fill("Once upon a time")
    page.locator("#text-generate-btn").click()
    page.wait_for_function(
        "() => (document.querySelector('#text-completion textarea')?.value || '').length > 60", timeout=60_000
    )
    page.locator("#text-stop-btn").click()
    time.sleep(1.5)
    output = page.locator("#text-completion textarea")
    frozen = output.input_value()
    time.sleep(2.0)
    assert output.input_value() == frozen  # nothing arrives after Stop
    assert len(frozen) < 8000  # the full 4096 tokens would be ~20,000 characters
    # On the server the generation really ended: the model is no longer pinned by it.
    deadline = time.monotonic() + 15
    while any(m["in_use"] for m in api.predict(api_name="/models_status")["models"]):
        assert time.monotonic() < deadline, "the model stayed in use after Stop"
        time.sleep(0.3)
    assert_no_error_toast(page)


def test_next_token_explorer_shows_candidates_and_appends_a_sample(page):
    open_tab(page, "Text")
    _set_number(page, "text-top-k", 5)
    page.get_by_role("tab", name="Next-token explorer").click()
    prompt = page.locator("#explorer-prompt textarea")
    before = prompt.input_value()
    page.locator("#explorer-show").click()
    page.wait_for_selector("#explorer-bars .cand-removed", timeout=60_000)
    assert page.locator("#explorer-bars .cand-kept").count() == 5
    assert page.locator("#explorer-bars .cand-removed").first.evaluate("e => getComputedStyle(e).textDecorationLine") == "line-through"
    assert page.locator("#explorer-table").inner_text().count("removed") >= 5
    # The twin's random weights may draw an end token, or bytes that make no character, which add
    # nothing to the prompt (never a lone "\ufffd"): draw again, a new seed each time.
    for attempt in range(6):
        said = page.locator("#explorer-drawn").inner_text()
        page.locator("#explorer-sample").click()
        page.wait_for_function("said => document.querySelector('#explorer-drawn').innerText !== said",
                               arg=said, timeout=60_000)
        if len(prompt.input_value()) > len(before):
            break
    assert len(prompt.input_value()) > len(before) and prompt.input_value().startswith(before)
    assert "Drawn" in page.locator("#explorer-drawn").inner_text()
    assert_no_error_toast(page)


def test_one_students_chat_is_not_seen_by_another(browser, running_app):
    """Two browsers on one server: each keeps its own conversation and saved records."""
    pages = []
    for _ in range(2):
        context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(running_app.url)
        page.wait_for_selector("#studio-title")
        open_tab(page, "Text")
        pages.append(page)
    alice, bob = pages
    _set_number(alice, "text-max-new-tokens", 8)
    alice.locator("#text-prompt textarea").fill("Alice's secret question")
    alice.locator("#text-generate-btn").click()
    wait_for_text(alice, "text-stats", "tokens/s", timeout=60_000)
    bob.wait_for_timeout(1000)
    assert "Alice's secret question" in alice.locator("#text-chatbot").inner_text()
    assert "Alice's secret question" not in bob.locator("#text-chatbot").inner_text()
    assert not bob.locator("#text-record").get_by_text(re.compile(r"\.json")).count()
    for page in pages:
        page.context.close()


def test_enter_sends_and_shift_enter_starts_a_new_line(page):
    """As in a chat app: Shift+Enter keeps typing on a new line, Enter sends; the box says so."""
    open_tab(page, "Text")
    _set_number(page, "text-max-new-tokens", 8)
    box = page.locator("#text-prompt textarea")
    box.fill("")
    box.type("first line")
    box.press("Shift+Enter")
    box.type("second line")
    assert box.input_value() == "first line\nsecond line"  # nothing sent yet
    assert "Shift+Enter" in page.locator("#text-prompt").inner_text()
    box.press("Enter")
    wait_for_text(page, "text-chatbot", "second line", timeout=60_000)
    assert "first line" in page.locator("#text-chatbot").inner_text()
    assert_no_error_toast(page)
