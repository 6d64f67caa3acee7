"""The Train tab in a real Chromium: the sample dataset, a short job whose loss plot moves,
the same job found again after a reload, and a finished adapter used from the Text tab."""

from __future__ import annotations

import re

from tests.browser.conftest import assert_no_error_toast, open_tab, wait_for_text

STEP = "() => Number(document.querySelector('#train-progress .train-progress')?.dataset.step || 0)"
DONE = "document.querySelector('#train-progress .train-progress')?.dataset.state === 'done'"


def start_sample_job(page, name: str, max_steps: int) -> None:
    """Pick the sample dataset, name the adapter, and start a short job."""
    open_tab(page, "Train (LoRA)")
    page.locator("#train-sample").click()
    page.wait_for_function("() => document.querySelector('#train-preview')?.innerText.includes('Motivational Coach')")
    page.locator("#train-adapter-name input, #train-adapter-name textarea").first.fill(name)
    page.locator("#train-cutoff input").fill("32")
    page.locator("#train-optimisation").get_by_text("Optimisation").first.click()
    page.locator("#train-max-steps input").fill(str(max_steps))
    page.locator("#train-start").click()


def test_sample_job_loss_plot_and_reload(page):
    # Long enough to be still running when its progress is read (the tiny model takes a few ms a
    # step); the test cancels it at the end.
    start_sample_job(page, "browser-coach", 3_000)

    page.wait_for_function(f"() => ({STEP})() >= 2", timeout=180_000)
    first = page.evaluate(STEP)
    page.wait_for_function(  # the progress moves (or, on a very fast machine, the job is done)
        f"() => ({STEP})() > {first} || {DONE}", timeout=120_000)
    plot = page.locator("#train-loss")
    plot.locator("canvas, svg").first.wait_for(timeout=30_000)  # the loss plot is drawn
    assert "browser-coach" in page.locator("#train-status").inner_text()
    assert_no_error_toast(page)

    page.reload()  # the job lives in its own process and folder; this browser finds it again
    page.wait_for_selector("#studio-title")
    open_tab(page, "Train (LoRA)")
    page.wait_for_function("() => document.querySelector('#train-status')?.innerText.includes('browser-coach')",
                           timeout=60_000)
    page.wait_for_function(f"() => ({STEP})() >= {first}", timeout=60_000)
    page.locator("#train-cancel").click()  # leave no worker running
    page.wait_for_function("() => /cancelled|done/.test(document.querySelector('#train-status')?.innerText || '')",
                           timeout=60_000)


def test_a_finished_adapter_is_offered_in_the_text_tab(page):
    """Train a few steps on the sample data, then pick the adapter next to the model in the
    Text tab and generate with it: the stats name the adapter."""
    start_sample_job(page, "text-coach", 3)
    page.wait_for_function("() => /text-coach[\\s\\S]*done/.test(document.querySelector('#train-status')?.innerText || '')",
                           timeout=180_000)
    # Resume on a finished job: a pop-up says why; the status and the loss plot stay as they were.
    page.locator("#train-resume").click()
    page.locator(".toast-body.error").filter(has_text="only an interrupted").first.wait_for(timeout=30_000)
    page.locator(".toast-close").first.click()
    assert "done" in page.locator("#train-status").inner_text()
    assert page.locator("#train-loss .error, #train-status .error, #train-progress .error").count() == 0

    open_tab(page, "Text")
    page.locator("#text-model input").fill("bigscience/bloom-560m")
    page.locator("#text-model input").press("Enter")
    page.locator("#text-adapter input").click()  # opening the list refreshes it
    page.get_by_role("option", name=re.compile(r"^text-coach · ")).click()
    page.get_by_text("Completion", exact=True).first.click()
    page.locator("#text-prompt textarea").fill("Coach")
    page.locator("#text-max-new-tokens input[type='number']").fill("4")
    page.locator("#text-generate-btn").click()
    wait_for_text(page, "text-stats", "adapter text-coach", timeout=60_000)
    assert_no_error_toast(page)
