"""The Image tab in a real Chromium: generate two images, see them, reload and find them in
this browser's history, send one to another tab, Cancel a long run."""

from __future__ import annotations

import re

from tests.browser.conftest import (assert_no_error_toast, draw_and_send, fill_numbers, long_image_settings,
                                   number_box, open_tab, small_image_settings, wait_for_text)


def _status(page) -> str:
    return page.locator("#image-status").inner_text()


def test_generate_reload_history_and_send_to_the_tokenizer(page):
    open_tab(page, "Image")
    page.locator("#image-prompt textarea").fill("a paper lantern at night")
    small_image_settings(page, steps=2)
    page.locator("#image-generate").click()
    wait_for_text(page, "image-status", "2 image(s) done")
    assert page.locator("#image-gallery img").count() >= 2
    details = page.locator("#image-details").inner_text()
    # The enlarged image is the one the details describe (the newest).
    seed = re.search(r"seed (\d+)", details).group(1)
    assert f"seed {seed}" in page.locator("#image-gallery .preview").inner_text()
    assert_no_error_toast(page)

    # A reload keeps this browser's id, so its history comes back.
    page.reload()
    page.wait_for_selector("#studio-title")
    history = page.locator("#image-history img")
    history.first.wait_for(timeout=30_000)
    assert history.count() >= 2

    history.first.click()
    wait_for_text(page, "image-details", "Prompt sent to the model", timeout=30_000)
    page.locator("#image-send-target input").click()
    page.get_by_role("option", name="Tokenizer: image as tokens").click()
    page.locator("#image-send").click()
    # The Tokenizer tab opens on its image view with the picture in its file input.
    page.locator("#tokens-image-file").get_by_text(".png").first.wait_for(timeout=30_000)
    assert_no_error_toast(page)


def test_cancel_ends_a_long_run_and_the_next_one_works(page):
    open_tab(page, "Image")
    page.locator("#image-prompt textarea").fill("a very long run")
    long_image_settings(page)
    page.locator("#image-generate").click()
    wait_for_text(page, "image-status", "step", timeout=60_000)
    page.locator("#image-cancel").click()  # during the first image
    # The run reaches its end and says so; "Cancelling at the next step…" never stays.
    page.wait_for_function(
        "() => (document.querySelector('#image-status')?.innerText || '').includes("
        "'Cancelled: 0 image(s) were finished and saved')", timeout=30_000
    )
    fill_numbers(page, {"image-steps": 1, "image-width": 256, "image-height": 256})
    page.locator("#image-generate").click()
    wait_for_text(page, "image-status", "image(s) done")
    # Cancel after the run has ended has nothing to stop and leaves the result's status alone.
    done = _status(page)
    page.locator("#image-cancel").click()
    page.wait_for_timeout(1500)
    assert _status(page) == done
    assert_no_error_toast(page)


def test_a_reload_during_a_run_brings_back_the_form_and_follows_the_run(page):
    open_tab(page, "Image")
    before = page.locator("#image-history img").count()
    page.locator("#image-prompt textarea").fill("finished after the reload")
    # Long enough to outlast the reload on a loaded machine (the form comes back only while it runs).
    small_image_settings(page, steps=150)
    box = page.locator("#image-number input[type='number']")
    box.fill("1")
    box.press("Tab")
    page.locator("#image-generate").click()
    wait_for_text(page, "image-status", "step", timeout=60_000)
    page.reload()  # Gradio drops this page's event; the work itself goes on
    page.wait_for_selector("#studio-title")
    # The form comes back as the run was asked for, and the run's progress shows.
    page.wait_for_function(
        "() => (document.querySelector('#image-prompt textarea')?.value || '') === 'finished after the reload'",
        timeout=30_000,
    )
    page.locator("#image-advanced button").first.click()  # closed again after the reload
    assert number_box(page, "image-steps").input_value() == "150"
    # Its result arrives on its own, in the gallery and in the history.
    wait_for_text(page, "image-status", "1 image(s) done")
    assert page.locator("#image-gallery img").count() >= 1
    page.wait_for_function(f"() => document.querySelectorAll('#image-history img').length > {before}", timeout=30_000)
    assert_no_error_toast(page)


def test_cancel_after_a_reload_stops_the_run(page):
    """A run nobody could stop would hold the class's queue: after a reload, Cancel reaches it."""
    open_tab(page, "Image")
    page.locator("#image-prompt textarea").fill("stopped after the reload")
    long_image_settings(page)  # still drawing after the reload
    page.locator("#image-generate").click()
    wait_for_text(page, "image-status", "step", timeout=60_000)
    page.reload()
    page.wait_for_selector("#studio-title")
    wait_for_text(page, "image-status", "step", timeout=60_000)
    page.locator("#image-cancel").click()
    wait_for_text(page, "image-status", "Cancelled", timeout=60_000)
    assert "done" not in page.locator("#image-status").inner_text()


def test_switching_the_language_keeps_what_was_typed(page):
    open_tab(page, "Image")
    page.locator("#image-prompt textarea").fill("a lighthouse in the fog")
    page.locator("#image-negative textarea").fill("people")
    page.locator("#studio-language").get_by_text("繁體中文").click()  # the page reloads in Chinese
    page.get_by_role("tab", name="圖像", exact=True).wait_for(timeout=30_000)
    page.wait_for_function(
        "() => (document.querySelector('#image-prompt textarea')?.value || '') === 'a lighthouse in the fog'",
        timeout=30_000,
    )
    assert page.locator("#image-negative textarea").input_value() == "people"
    page.locator("#studio-language").get_by_text("English").click()  # and back, for the next tests
    page.get_by_role("tab", name="Image", exact=True).wait_for(timeout=30_000)


def test_flux_schnell_is_picked_shows_its_note_and_draws(page):
    open_tab(page, "Image")
    page.locator("#image-checkpoint input").click()
    page.get_by_role("option", name="black-forest-labs/FLUX.1-schnell").click()
    # The family note says what FLUX reads and which controls it leaves out, and why.
    wait_for_text(page, "image-family", "FLUX.1 schnell", timeout=30_000)
    note = page.locator("#image-family").inner_text()
    assert "T5" in note and "distilled for 4 steps" in note
    # No performance preset shows as chosen (FLUX runs its own 4 steps), and Steps is empty
    # ("empty = the default"), not 0.
    page.wait_for_function("() => !document.querySelector('#image-performance input:checked')", timeout=30_000)
    page.locator("#image-advanced button").first.click()
    assert number_box(page, "image-steps").input_value() == ""
    page.locator("#image-prompt textarea").fill("a paper crane on a desk")
    fill_numbers(page, {"image-width": 256, "image-height": 256, "image-steps": 4, "image-number": 1})
    page.locator("#image-generate").click()
    wait_for_text(page, "image-status", "1 image(s) done")
    details = page.locator("#image-details").inner_text()
    assert "FLUX.1-schnell" in details
    assert_no_error_toast(page)


def test_the_first_send_to_inpaint_brings_the_prompt(page):
    """Sent to Edit: inpaint, a result brings its prompt the first time (the editor is slower to
    fill than the other tools' pictures)."""
    draw_and_send(page, "a red kite", "Edit: inpaint")
    page.wait_for_function("() => document.querySelector('#edit-prompt textarea')?.value === 'a red kite'",
                           timeout=30_000)
    assert_no_error_toast(page)


def test_the_empty_steps_and_cfg_boxes_say_what_will_run(page):
    """Left empty, Steps and CFG follow the preset: the boxes stay empty (not 0) and say the
    numbers the chosen preset will run."""
    open_tab(page, "Image")
    page.locator("#image-advanced button").first.click()
    steps, cfg = number_box(page, "image-steps"), number_box(page, "image-cfg")
    page.wait_for_function("() => (document.querySelector('#image-steps input, #image-steps textarea')"
                           "?.placeholder || '').startsWith('30')", timeout=30_000)
    assert steps.input_value() == "" and cfg.input_value() == ""
    page.locator("#image-performance").get_by_text("Lightning").first.click()
    page.wait_for_function("() => (document.querySelector('#image-steps input, #image-steps textarea')"
                           "?.placeholder || '').startsWith('4 ')", timeout=30_000)
    assert cfg.get_attribute("placeholder").startswith("1 ")
