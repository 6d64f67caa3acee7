"""The Prompt tab in a real Chromium: type Chinese, expand it (an OpenAI-compatible server
gives a well-formed English reply), send it to the Image tab, and draw with it."""

from __future__ import annotations

from tests.browser.conftest import (assert_no_error_toast, open_tab, opened_page, read_and_close_toast,
                                   small_image_settings, wait_for_text)
from tests.prompt_helpers import chat_server  # noqa: F401  (fixture)

ENGLISH = "a red fox standing in deep snow, wildlife photograph"


def _value(page, elem_id: str) -> str:
    return page.locator(f"#{elem_id} textarea").input_value()


def _expand_through(page, text: str, endpoint_url: str) -> None:
    """Type ``text`` in the Prompt tab and expand it with the OpenAI-compatible server at ``endpoint_url``."""
    open_tab(page, "Prompt")
    page.locator("#prompt-input textarea").fill(text)
    page.get_by_text("OpenAI-compatible endpoint").click()
    page.get_by_label("openai").check()
    page.get_by_label("Endpoint URL").fill(endpoint_url)
    page.get_by_label("Model name on the endpoint").fill("served-model")
    page.locator("#prompt-expand").click()


def test_expand_chinese_and_send_it_to_the_image_tab(page, chat_server):
    _expand_through(page, "一隻在雪地裡的紅狐狸，清晨", chat_server.url)
    page.wait_for_function(
        "() => (document.querySelector('#prompt-output textarea')?.value || '').startsWith('a red fox')", timeout=60_000
    )
    assert _value(page, "prompt-negative") == "blurry, low quality, watermark"
    assert "Chinese" in page.locator("#prompt-info").inner_text()
    assert chat_server.bodies[-1]["messages"][1]["content"] == "Idea: 一隻在雪地裡的紅狐狸，清晨"

    page.locator("#prompt-send-image").click()
    page.wait_for_function(
        "() => (document.querySelector('#image-prompt textarea')?.value || '').startsWith('a red fox')", timeout=30_000
    )
    assert page.locator("#image-prompt textarea").is_visible()  # the Image tab is open
    assert _value(page, "image-prompt").startswith(ENGLISH)
    assert _value(page, "image-negative") == "blurry, low quality, watermark"

    # Gradio itself holds the new value: a generation uses it.
    small_image_settings(page, steps=1, number=1)
    page.locator("#image-generate").click()
    wait_for_text(page, "image-status", "1 image(s) done")
    wait_for_text(page, "image-details", "wildlife photograph", timeout=10_000)
    assert_no_error_toast(page)


def test_send_with_no_prompt_says_so_and_stays(page):
    open_tab(page, "Prompt")
    page.locator("#prompt-send-image").click()
    assert "no prompt to send" in read_and_close_toast(page)
    assert page.locator("#prompt-output textarea").is_visible()  # still on the Prompt tab


def test_describe_an_image_then_add_visual_words(page, tmp_path):
    from PIL import Image

    path = tmp_path / "sky.png"
    Image.new("RGB", (160, 100), (40, 90, 220)).save(path)
    open_tab(page, "Prompt")
    page.get_by_text("Describe (image → prompt)").click()
    page.locator("#prompt-describe-image input[type='file']").set_input_files(str(path))
    page.get_by_label("Art / Anime").check()
    page.locator("#prompt-negative textarea").fill("blurry")
    page.locator("#prompt-describe").click()
    # The caption lands by the Describe button; the prompt box above is the user's until asked.
    page.wait_for_function(
        "() => (document.querySelector('#prompt-caption textarea')?.value || '').includes('anime style')",
        timeout=60_000,
    )
    assert _value(page, "prompt-output") == ""
    page.locator("#prompt-use-caption").click()
    page.wait_for_function(
        "() => (document.querySelector('#prompt-output textarea')?.value || '').includes('anime style')"
    )
    assert "From Describe" in page.locator("#prompt-info").inner_text()
    assert _value(page, "prompt-negative") == "blurry"  # kept

    page.locator("#prompt-input textarea").fill("a lighthouse on a cliff")
    page.locator("#prompt-classic").click()
    wait_for_text(page, "prompt-info", "visual phrase", timeout=60_000)
    assert _value(page, "prompt-output").startswith("a lighthouse on a cliff")
    assert_no_error_toast(page)


def test_an_expansion_that_gives_the_text_back_says_why_next_to_it(page):
    from tests.prompt_helpers import ChatServer

    server = ChatServer(reply="抱歉，我無法協助。")  # a reply with no English prompt in it
    try:
        _expand_through(page, "一隻在雪地裡的紅狐狸", server.url)
        wait_for_text(page, "prompt-info", "CLIP", timeout=60_000)
        assert _value(page, "prompt-output") == "一隻在雪地裡的紅狐狸"
        info = page.locator("#prompt-info").inner_text()
        assert "English" in info and info.count("\n") >= 1  # the reason, in view, below the language line
    finally:
        server.close()


def test_send_to_image_finds_the_tab_in_a_chinese_browser(browser, running_app):
    with opened_page(browser, running_app.url, "zh-TW") as page:
        open_tab(page, "提示詞")
        page.locator("#prompt-send-image").click()  # nothing to send yet: said in Chinese
        assert "還沒有可以傳送的提示詞" in read_and_close_toast(page)
        page.locator("#prompt-input textarea").fill("a paper lantern at night, watercolor")
        page.locator("#prompt-expand").click()  # English, kept as it is: no LLM involved
        page.wait_for_function(
            "() => (document.querySelector('#prompt-output textarea')?.value || '').startsWith('a paper lantern')"
        )
        page.locator("#prompt-send-image").click()
        page.wait_for_function(
            "() => (document.querySelector('#image-prompt textarea')?.value || '') === 'a paper lantern at night, watercolor'"
        )
        assert page.locator("#image-prompt textarea").is_visible()
        assert_no_error_toast(page)
