"""The whole app in a real Chromium: every tab opens without an error toast."""

from __future__ import annotations

import re

from tests.browser.conftest import assert_no_error_toast, open_tab

TABS = ["Text", "Tokenizer", "Models", "About"]


def test_every_tab_opens_without_error(page):
    assert page.locator("#tiny-banner").is_visible()  # tiny profile says its outputs are noise
    for name in TABS:
        open_tab(page, name)
        page.wait_for_timeout(600)  # let tab-select events and the first refresh land
        assert_no_error_toast(page)


def test_models_tab_shows_live_figures_and_frees(page):
    open_tab(page, "Models")
    summary = page.locator("#models-summary")
    summary.get_by_text(re.compile(r"hits \d+ · misses \d+")).wait_for()
    # Memory as labelled bars with the figures written out, not raw JSON.
    memory = page.locator("#models-memory")
    memory.locator(".models-bar[data-name='ram']").wait_for()
    figures = memory.locator(".models-bar-figures").all_inner_texts()
    assert figures and all(re.fullmatch(r"\d+\.\d+( / \d+\.\d+)? GB.*", f) for f in figures), figures
    assert "RAM, whole computer" in memory.inner_text()
    assert "component" in page.locator("#models-table").inner_text()
    # "Free" with "all" asks first: declined, nothing is freed, and it says so.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Free", exact=True).click()
    page.locator("#models-freed").get_by_text("Nothing was freed").wait_for()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Free", exact=True).click()
    page.locator("#models-freed").get_by_text(re.compile(r"Freed \d+ model\(s\); \d+ in use were kept\.")).wait_for()
    assert_no_error_toast(page)
    assert "cpu" in summary.inner_text()


def test_about_names_every_tool_and_the_device_in_use(page):
    open_tab(page, "About")
    body = page.locator("#about-body").inner_text()
    assert all(tool in body for tool in ("Image", "Edit", "Face swap", "Prompt", "Text", "Tokenizer", "Train"))
    page.locator("#about-server").get_by_text('"cpu"').wait_for()  # resolved, not "auto"
    table = page.locator("#about-models")
    assert table.evaluate("el => el.scrollWidth <= el.clientWidth + 2")  # no sideways scroll


def test_labels_follow_the_browser_language(browser, running_app):
    context = browser.new_context(locale="zh-TW")
    page = context.new_page()
    page.goto(running_app.url)
    page.get_by_role("tab", name="模型").wait_for(timeout=30_000)
    page.get_by_role("tab", name="模型").click()
    page.locator("#models-memory").get_by_text("整台電腦").wait_for()
    page.get_by_role("tab", name="關於").click()
    page.get_by_text("一個工作室").wait_for()
    # Text the server builds at run time follows the browser's language too.
    page.get_by_role("tab", name="分詞器").click()
    page.get_by_text("模型看不到文字").wait_for()
    page.locator("#tokens-counts").get_by_text("個字元").first.wait_for()
    context.close()


def test_option_labels_and_the_banner_follow_the_browser_language(browser, running_app):
    context = browser.new_context(locale="zh-TW", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(running_app.url)
    page.locator("#tiny-banner").get_by_text("隨機").wait_for(timeout=30_000)
    page.get_by_role("tab", name="圖像", exact=True).click()
    page.locator("#image-performance").get_by_text("速度（30 步）").wait_for()
    assert page.locator("#image-prompt textarea").get_attribute("placeholder") == "雪地森林裡的一隻紅狐狸，清晨的光"
    page.locator("#image-styles input").click()
    page.get_by_role("option", name=re.compile("^電影感 — ")).wait_for()
    context.close()


def test_the_language_choice_changes_labels_and_server_texts(browser, running_app):
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(running_app.url)
    page.get_by_role("tab", name="Image", exact=True).wait_for(timeout=30_000)
    page.locator("#studio-language").get_by_text("繁體中文").click()  # reloads the page in Chinese
    page.get_by_role("tab", name="圖像", exact=True).wait_for(timeout=30_000)
    assert page.locator("#studio-language input[value='zh-TW']").is_checked()
    # What the server writes follows the choice too, though the browser asks for English.
    page.get_by_role("tab", name="分詞器").click()
    page.locator("#tokens-counts").get_by_text("個字元").first.wait_for(timeout=30_000)
    page.locator("#studio-language input[value='auto']").click()  # back to the browser's language
    page.get_by_role("tab", name="Image", exact=True).wait_for(timeout=30_000)
    context.close()
