"""The Train tab in a real Chromium: the sample dataset, a short job whose loss plot moves,
and the same job found again after a reload."""

from __future__ import annotations

from tests.browser.conftest import assert_no_error_toast, open_tab

STEP = "() => Number(document.querySelector('#train-progress .train-progress')?.dataset.step || 0)"


def test_sample_job_loss_plot_and_reload(page):
    open_tab(page, "Train (LoRA)")
    page.locator("#train-sample").click()
    page.wait_for_function("() => document.querySelector('#train-preview')?.innerText.includes('Motivational Coach')")
    page.locator("#train-adapter-name input, #train-adapter-name textarea").first.fill("browser-coach")
    page.locator("#train-cutoff input").fill("32")
    page.locator("#train-optimisation").get_by_text("Optimisation").first.click()
    page.locator("#train-max-steps input").fill("40")
    page.locator("#train-start").click()

    page.wait_for_function(f"() => ({STEP})() >= 2", timeout=180_000)
    first = page.evaluate(STEP)
    page.wait_for_function(f"() => ({STEP})() > {first}", timeout=120_000)  # the progress moves
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
