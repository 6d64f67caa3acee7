"""The Text tab's Diffusion mode in a real Chromium: a run streams its steps as rows ([MASK]s
turning into tokens, confidences on hover), then Play walks the slider through them."""

from __future__ import annotations

from tests.browser.conftest import assert_no_error_toast, open_tab, wait_for_text

SHOWN_STEP = "() => document.querySelector('#diffusion-shown .row')?.dataset.step"


def _set_slider(page, elem_id: str, value: int) -> None:
    box = page.locator(f"#{elem_id} input[type='number']")
    box.fill(str(value))
    box.press("Enter")


def _slider_value(page) -> int:
    return int(page.locator("#diffusion-scrub input[type='number']").input_value())


def test_a_run_shows_every_step_and_play_walks_through_them(page):
    open_tab(page, "Text")
    page.get_by_role("tab", name="Diffusion", exact=True).click()
    _set_slider(page, "diffusion-steps", 8)
    _set_slider(page, "diffusion-length", 16)
    _set_slider(page, "diffusion-block-length", 16)
    page.locator("#diffusion-run").click()
    wait_for_text(page, "diffusion-stats", "forward passes for", timeout=60_000)
    assert "8 forward passes" in page.locator("#diffusion-stats").inner_text()
    rows = page.locator("#diffusion-rows .row")
    assert rows.count() == 9  # the row of masks, then one per forward pass
    assert rows.first.locator(".mask").count() == 16
    assert rows.last.locator(".mask").count() == 0
    # Each step highlights what it unmasked (16 tokens over 8 steps: two each), confidence on hover.
    assert rows.nth(1).locator(".new").count() == 2
    assert "confidence" in rows.nth(1).locator(".new").first.get_attribute("title")
    assert page.evaluate(SHOWN_STEP) == "8" and _slider_value(page) == 8

    # Play starts again from the first step and moves the slider and the shown row along.
    page.locator("#diffusion-play").click()
    page.wait_for_function(f"() => ({SHOWN_STEP})() === '2'", timeout=20_000)
    assert 2 <= _slider_value(page) <= 3
    masks_then = page.locator("#diffusion-shown .mask").count()
    page.wait_for_function(f"() => ({SHOWN_STEP})() === '5'", timeout=20_000)
    assert page.locator("#diffusion-shown .mask").count() < masks_then
    page.wait_for_function(f"() => ({SHOWN_STEP})() === '8'", timeout=20_000)
    page.wait_for_timeout(1500)
    assert page.evaluate(SHOWN_STEP) == "8" and _slider_value(page) == 8  # it stops at the last step

    # The slider shows any step by hand.
    _set_slider(page, "diffusion-scrub", 1)
    page.wait_for_function(f"() => ({SHOWN_STEP})() === '1'", timeout=10_000)
    assert_no_error_toast(page)
