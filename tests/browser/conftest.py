"""A real headless Chromium (Debian's), driven by playwright; no browser download."""

from __future__ import annotations

import contextlib
import os
import shutil

import pytest

CHROMIUM = os.environ.get("STUDIO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}; .ci/run installs Debian's chromium.")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextlib.contextmanager
def opened_page(browser, url: str, locale: str = "en-US"):
    """A fresh page (own session, the browser asking for ``locale``) on the app at ``url``, with
    the app fully rendered; closed afterwards."""
    context = browser.new_context(locale=locale, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url)
    page.wait_for_selector("#studio-title")
    try:
        yield page
    finally:
        context.close()


@pytest.fixture()
def page(browser, running_app):
    """A fresh page (own session) on the running app, with the app fully rendered."""
    with opened_page(browser, running_app.url) as page:
        yield page


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def assert_no_error_toast(page) -> None:
    toasts = page.locator(".toast-body.error, [data-testid='toast-body'].error")
    assert toasts.count() == 0, toasts.all_inner_texts()


def read_and_close_toast(page) -> str:
    """The text of the first pop-up to come; then it is closed, as a reader does."""
    toast = page.locator("[data-testid='toast-body']").first
    toast.wait_for()
    said = toast.inner_text()
    toast.locator("[data-testid='toast-close']").click()
    toast.wait_for(state="detached")
    return said


def wait_for_text(page, elem_id: str, needle: str, timeout: float = 120_000) -> None:
    """Wait until the element ``elem_id`` shows ``needle``; on a timeout, say what it and the page's
    toasts showed instead (a run refused, or one still drawing)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    script = "([id, needle]) => (document.getElementById(id)?.innerText || '').includes(needle)"
    try:
        page.wait_for_function(script, arg=[elem_id, needle], timeout=timeout)
    except PlaywrightTimeout:
        shown = page.locator(f"#{elem_id}").inner_text() if page.locator(f"#{elem_id}").count() else "(absent)"
        toasts = page.locator("[data-testid='toast-body']").all_inner_texts()
        raise AssertionError(f"#{elem_id} never showed {needle!r} in {timeout / 1000:g} s; it shows {shown!r}; "
                             f"toasts: {toasts}") from None


def small_image_settings(page, steps: int, number: int | None = None, side: int = 256) -> None:
    """Open the Image tab's Advanced settings and ask for small, quick pictures (256×256)."""
    page.locator("#image-advanced button").first.click()
    fields = [("image-width", side), ("image-height", side), ("image-steps", steps)]
    if number is not None:
        fields.append(("image-number", number))
    fill_numbers(page, dict(fields))


def long_image_settings(page) -> None:
    """A run that is still drawing when Cancel reaches it, on a fast machine too: the most steps
    at 1024×1024 (each step 16 times a 256×256 one)."""
    small_image_settings(page, steps=150, number=1, side=1024)


# A number's box: Gradio's number input, or a one-line text box where a number may be left empty.
NUMBER_BOX = ":is(input[type='number'], input[type='text'], textarea)"


def number_box(page, elem_id: str):
    return page.locator(f"#{elem_id} {NUMBER_BOX}").first


def fill_numbers(page, values: dict[str, float]) -> None:
    """Type each value into the number box of that element id, as a person does (Tab to leave)."""
    for elem_id, value in values.items():
        box = number_box(page, elem_id)
        box.fill(str(value))
        box.press("Tab")


def draw_and_send(page, prompt: str, target: str) -> None:
    """Draw one small picture of ``prompt`` in the Image tab and send it to ``target`` ("Edit: inpaint")."""
    open_tab(page, "Image")
    page.locator("#image-prompt textarea").fill(prompt)
    small_image_settings(page, steps=1, number=1)
    page.locator("#image-generate").click()
    wait_for_text(page, "image-status", "1 image(s) done")
    page.locator("#image-send-target input").click()
    page.get_by_role("option", name=target).click()
    page.locator("#image-send").click()
