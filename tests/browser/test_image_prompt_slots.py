"""Browser: the project's own test picture in two image-prompt slots (PyraCanny and
ImagePrompt), both maps shown next to the pictures, then a generation that uses them."""

from __future__ import annotations

from studio.faces.samples import draw_faces
from tests.browser.conftest import assert_no_error_toast, open_tab, small_image_settings, wait_for_text


def test_two_slots_show_their_maps_and_generate(page, tmp_path):
    picture = tmp_path / "faces.png"
    draw_faces(seed=4).save(picture)
    open_tab(page, "Image")
    page.locator("#image-prompts button").first.click()
    # Slot 1: PyraCanny; slot 2: ImagePrompt (the default type).
    page.locator("#image-prompt-1-type").get_by_text("PyraCanny", exact=True).click()
    page.locator("#image-prompt-1-input input[type=file]").set_input_files(str(picture))
    page.locator("#image-prompt-1-map img").wait_for(timeout=60_000)
    page.locator("#image-prompt-2-input input[type=file]").set_input_files(str(picture))
    page.locator("#image-prompt-2-map img").wait_for(timeout=60_000)
    # Each map is what that type gives the model: the edge map at the picture's size (640×320),
    # the encoder's 224×224 square.
    size = "(sel) => { const i = document.querySelector(sel); return i && i.complete ? [i.naturalWidth, i.naturalHeight] : null; }"
    page.wait_for_function(f"() => ({size})('#image-prompt-1-map img')?.[0] === 640")
    assert page.evaluate(f"() => ({size})('#image-prompt-1-map img')") == [640, 320]
    page.wait_for_function(f"() => ({size})('#image-prompt-2-map img')?.[0] === 224")
    # Advanced shows each slot's weight and stop-at, set to its type's defaults.
    page.locator("#image-prompts-advanced input").check()
    page.locator("#image-prompt-2-weight input[type=number]").wait_for()
    assert page.locator("#image-prompt-2-weight input[type=number]").input_value() == "0.6"
    assert page.locator("#image-prompt-1-stop input[type=number]").input_value() == "0.5"

    page.locator("#image-prompt textarea").fill("three friends, watercolor")
    small_image_settings(page, steps=2, number=1)
    page.locator("#image-generate").click()
    wait_for_text(page, "image-status", "image(s) done")
    assert page.locator("#image-gallery img").count() >= 1
    # The result says which pictures steered it, with their settings.
    details = page.locator("#image-details").inner_text()
    assert "PyraCanny (weight 1, stop at 0.5" in details and "ImagePrompt (weight 0.6, stop at 0.5" in details
    assert_no_error_toast(page)
