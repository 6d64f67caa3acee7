"""Every tab, sub-tab and accordion in a zh-TW Chromium: no English sentence outside model names,
proper names and Gradio's own widgets; the family notes of Z-Image and FLUX, and a run's status,
in Chinese too."""

from __future__ import annotations

import re

from tests.browser.conftest import number_box, wait_for_text

# Three English words in a row is a sentence left untranslated.
ENGLISH = re.compile(r"\b[A-Za-z][a-z']+(?:[ ,]+[A-Za-z][a-z']+){2,}")
ALLOWED = {
    "Hugging Face Hub",  # a proper name
    # Gradio's own image editor says these itself (its built-in translations have no zh-TW for them).
    "Upload an image", "select the draw tool to start",
}


def _open_accordions(page) -> None:
    for accordion in page.locator("button.label-wrap:visible").all():
        if "open" not in (accordion.get_attribute("class") or ""):
            accordion.click()
    page.wait_for_timeout(300)


def _english(page) -> set[str]:
    text = page.locator("body").inner_text()
    return {found.group(0) for found in ENGLISH.finditer(text)} - ALLOWED


def test_every_tab_reads_in_chinese(browser, running_app):
    context = browser.new_context(locale="zh-TW", viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.goto(running_app.url)
    page.get_by_role("tab", name="圖像", exact=True).wait_for(timeout=30_000)
    main_tabs = page.get_by_role("tab").all_inner_texts()
    found: dict[str, set[str]] = {}
    for name in main_tabs:
        page.get_by_role("tab", name=name, exact=True).first.click()
        page.wait_for_timeout(600)
        _open_accordions(page)
        found[name] = _english(page)
        shown_tabs = page.get_by_role("tab").locator("visible=true")  # a hidden tab's sub-tabs wait their turn
        top_level = set(page.get_by_role("tablist").first.get_by_role("tab").all_inner_texts())  # the Teacher tab comes late
        for sub in [tab for tab in shown_tabs.all_inner_texts() if tab not in top_level]:
            page.get_by_role("tab", name=sub, exact=True).locator("visible=true").first.click()
            page.wait_for_timeout(600)
            _open_accordions(page)
            found[f"{name} / {sub}"] = _english(page)
    assert {where: said for where, said in found.items() if said} == {}

    # The family notes: what a family reads and why it ignores a control.
    page.get_by_role("tab", name="圖像", exact=True).first.click()
    for checkpoint in ("Tongyi-MAI/Z-Image-Turbo", "black-forest-labs/FLUX.1-schnell"):
        page.locator("#image-checkpoint input").click()
        page.get_by_role("option", name=checkpoint).click()
        page.wait_for_function("(c) => (document.querySelector('#image-prompts-note')?.innerText || '').includes('不支援')",
                               arg=checkpoint, timeout=30_000)
        assert not ENGLISH.search(page.locator("#image-family").inner_text())
        assert not ENGLISH.search(page.locator("#image-prompts-note").inner_text())

    # A run's status line, written by the server, in the reader's language.
    page.locator("#image-checkpoint input").click()
    page.get_by_role("option", name="stabilityai/stable-diffusion-xl-base-1.0").click()
    page.locator("#image-prompt textarea").fill("a paper lantern")
    _open_accordions(page)  # Advanced stays open from the walk above; opened if not
    for elem_id, value in (("image-width", 256), ("image-height", 256), ("image-steps", 1), ("image-number", 1)):
        box = number_box(page, elem_id)
        box.fill(str(value))
        box.press("Tab")
    page.locator("#image-generate").click()
    wait_for_text(page, "image-status", "完成 1 張圖")
    context.close()
