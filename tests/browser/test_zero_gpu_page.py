"""The page's own events as on a ZeroGPU Space (``--zero-gpu-emulate on``): each GPU call runs in a
forked worker with its arguments and results pickled across (spaces' own wrappers). Chromium
clicks as a student does: generate an image, cancel a long run, upscale, stream a reply, Stop."""

from __future__ import annotations

import pytest

from tests.browser.conftest import (assert_no_error_toast, fill_numbers, open_tab, opened_page, small_image_settings,
                                   wait_for_text)
from tests.conftest import start_app, stop_app
from tests.edit_helpers import picture


@pytest.fixture(scope="module")
def space_app(tiny_cache_dir, tmp_path_factory):
    app = start_app(["--zero-gpu-emulate", "on"], tiny_cache_dir, tmp_path_factory.mktemp("space"), timeout=240)
    yield app
    stop_app(app)


@pytest.fixture()
def space_page(browser, space_app):
    with opened_page(browser, space_app.url) as page:
        yield page


def test_generate_then_cancel_a_long_run(space_page, space_app):
    page = space_page
    open_tab(page, "Image")
    page.locator("#image-prompt textarea").fill("a paper lantern")
    small_image_settings(page, steps=2, number=1)
    page.locator("#image-generate").click()
    wait_for_text(page, "image-status", "1 image(s) done")
    assert page.locator("#image-gallery img").count() >= 1
    assert_no_error_toast(page)

    fill_numbers(page, {"image-steps": 150, "image-width": 1024, "image-height": 1024})  # still drawing at Cancel
    page.locator("#image-generate").click()
    wait_for_text(page, "image-status", "step", timeout=60_000)
    page.locator("#image-cancel").click()
    wait_for_text(page, "image-status", "Cancelled: 0 image(s) were finished and saved", timeout=60_000)
    assert_no_error_toast(page)
    assert "PicklingError" not in space_app.log()


def test_upscale_a_picture(space_page, tmp_path):
    page = space_page
    path = tmp_path / "small.png"
    picture(64, 48).save(path)
    open_tab(page, "Edit")
    page.get_by_role("tab", name="Upscale", exact=True).click()
    page.locator("#edit-upscale-image input[type='file']").set_input_files(str(path))
    page.locator("#edit-upscale-run").click()
    wait_for_text(page, "edit-status", "128×96")
    assert_no_error_toast(page)


def test_a_reply_streams_and_stop_ends_it(space_page):
    page = space_page
    open_tab(page, "Text")
    page.get_by_label("Completion").check()
    page.get_by_label("Deterministic").check()  # greedy: the twin never writes an end token
    box = page.locator("#text-max-new-tokens input[type='number']")
    box.fill("4096")
    box.press("Enter")
    page.locator("#text-prompt textarea").fill("Once upon a time")
    page.locator("#text-generate-btn").click()
    page.wait_for_function(
        "() => (document.querySelector('#text-completion textarea')?.value || '').length > 40", timeout=60_000
    )
    page.locator("#text-stop-btn").click()
    # Stop reaches the worker through its flag: the reply ends with its figures.
    wait_for_text(page, "text-stats", "stopped by you", timeout=30_000)
    assert_no_error_toast(page)
