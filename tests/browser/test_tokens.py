"""Browser: the Tokenizer tab shows chips and counts for Chinese text as it is typed."""

from __future__ import annotations

import numpy as np
from PIL import Image

from tests.browser.conftest import assert_no_error_toast, open_tab


def test_type_chinese_and_see_chips_and_counts(page):
    open_tab(page, "Tokenizer")
    box = page.locator("#tokens-text textarea")
    box.fill("")
    box.type("今天天氣很好", delay=30)  # keystrokes: the re-render is debounced, the last one wins
    chips = page.locator("#tokens-chips .tok-view")
    page.wait_for_function(
        "() => (document.querySelector('#tokens-chips .tok-view')?.innerText || '').includes('好')"
    )
    counts = page.locator("#tokens-counts")
    page.wait_for_function("() => document.querySelector('#tokens-counts')?.innerText.includes('6 characters')")
    assert "tokens" in counts.inner_text()
    assert chips.locator(".tok").count() >= 1
    assert_no_error_toast(page)


def pick_tokenizer(page, name: str) -> None:
    dropdown = page.locator("#tokens-tokenizer input")
    dropdown.fill(name)
    dropdown.press("Enter")


def test_real_gpt2_shows_byte_pieces_of_chinese_characters(reference_gpt2, page):
    open_tab(page, "Tokenizer")
    page.locator("#tokens-text textarea").fill("老師很幽默")
    pick_tokenizer(page, reference_gpt2)
    # 師 is e5 b8 ab in UTF-8; the real GPT-2 cuts it into two byte tokens, e5 b8 (id 30585) | ab.
    page.wait_for_function("() => document.querySelector('#tokens-chips')?.innerText.includes('30585')")
    assert "e5 b8" in page.locator("#tokens-chips").inner_text()
    assert page.locator("#tokens-chips .grp").count() == 5  # one dashed group per character
    assert page.locator("#tokens-chips .part.partial").count() == 11  # 2+2+2+2, and 默 takes 3
    assert_no_error_toast(page)


def test_switch_tokenizer_and_see_bert_special_tokens(page):
    open_tab(page, "Tokenizer")
    page.locator("#tokens-text textarea").fill("老師很幽默")
    pick_tokenizer(page, "google-bert/bert-base-chinese")
    page.wait_for_function(
        "() => (document.querySelector('#tokens-chips .tok-view')?.innerText || '').includes('[CLS]')"
    )
    assert page.locator("#tokens-chips .special").count() == 2  # [CLS] and [SEP]
    assert_no_error_toast(page)


def test_upload_an_image_and_see_the_token_grid(page, tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (32, 48, 3), dtype=np.uint8)).save(path)
    open_tab(page, "Tokenizer")
    page.get_by_role("tab", name="Images as tokens").click()
    page.locator("#tokens-image-file input[type=file]").set_input_files(str(path))
    page.wait_for_selector("#tokens-grid .vq-grid span")
    assert page.locator("#tokens-grid .vq-grid span").count() == 8 * 12
    assert "96 tokens" in page.locator("#tokens-image-summary").inner_text()
    assert_no_error_toast(page)


def wait_for_tokenizer(page, name: str) -> None:
    page.wait_for_function(
        "(want) => document.querySelector('#tokens-tokenizer input')?.value === want", arg=name
    )


def test_use_the_text_tabs_model(page, tiny_settings):
    from studio.models import catalog

    # The Text tab never opened (Gradio draws a tab on its first visit): its default model.
    open_tab(page, "Tokenizer")
    page.get_by_role("button", name="Use the Text tab's model").click()
    wait_for_tokenizer(page, catalog.default_id(tiny_settings, "text"))
    page.wait_for_function("() => document.querySelector('#tokens-counts')?.innerText.includes('tokens')")
    # Another model picked on the Text tab is the one taken.
    other = catalog.choices(tiny_settings, "text")[1]
    page.get_by_role("tab", name="Text", exact=True).click()  # not "Text as tokens"
    box = page.locator("#text-model input")
    box.fill(other)
    box.press("Enter")
    open_tab(page, "Tokenizer")
    page.get_by_role("button", name="Use the Text tab's model").click()
    wait_for_tokenizer(page, other)
    assert_no_error_toast(page)
