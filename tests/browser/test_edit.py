"""The Edit tab in a real Chromium: outpaint right, then extend the result again in one click;
brush a mask and inpaint (pixels away from the brush unchanged); send an Image tab result to
Outpaint through the send-to picker (its prompt comes along)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from tests.browser.conftest import assert_no_error_toast, draw_and_send, fill_numbers, open_tab, wait_for_text
from tests.edit_helpers import picture


def _result_pixels(page) -> np.ndarray:
    src = page.locator("#edit-result img").get_attribute("src")
    body = page.request.get(src).body()
    return np.asarray(Image.open(io.BytesIO(body)).convert("RGB"))


def _open_edit(page, sub_tab: str) -> None:
    open_tab(page, "Edit")
    page.get_by_role("tab", name=sub_tab).click()
    fill_numbers(page, {"edit-steps": 2})


def test_outpaint_right_then_outpaint_the_result_again(page, tmp_path):
    photo = tmp_path / "photo.png"
    picture(96, 64).save(photo)
    _open_edit(page, "Outpaint")
    page.locator("#edit-outpaint-image input[type=file]").set_input_files(str(photo))
    page.locator("#edit-outpaint-image img").wait_for()
    fill_numbers(page, {"edit-outpaint-right": 32})
    page.locator("#edit-outpaint-run").click()
    wait_for_text(page, "edit-status", "Done: 128×64")
    first = _result_pixels(page)
    assert first.shape == (64, 128, 3)
    assert np.array_equal(first[:, :96], np.asarray(Image.open(photo).convert("RGB")))  # the original, unchanged

    page.locator("#edit-again").click()  # the result goes back in, on the Outpaint sub-tab
    page.wait_for_function(
        "() => (document.querySelector('#edit-outpaint-image img')?.src || '').includes('.png')"
        " && !(document.querySelector('#edit-outpaint-image img')?.src || '').includes('photo.png')",
        timeout=30_000,
    )
    page.locator("#edit-outpaint-run").click()
    wait_for_text(page, "edit-status", "Done: 160×64")
    again = _result_pixels(page)
    assert np.array_equal(again[:, :128], first)
    assert "the original pixels are unchanged" in page.locator("#edit-details").inner_text()
    assert_no_error_toast(page)


def test_brush_a_mask_and_inpaint(page, tmp_path):
    photo = tmp_path / "photo.png"
    picture(384, 256, seed=4).save(photo)  # large enough that the brush covers a small part
    _open_edit(page, "Inpaint")
    editor = page.locator("#edit-inpaint-image")
    # The canvas is ready once it shows its zoom; a file given before that is dropped.
    page.wait_for_function("() => /\\d+%/.test(document.querySelector('#edit-inpaint-image')?.innerText || '')")
    editor.locator("input[type=file]").set_input_files(str(photo))
    page.wait_for_function(  # the picture is on the canvas once the upload prompt is gone
        "() => !(document.querySelector('#edit-inpaint-image')?.innerText || '').includes('Upload an image')",
        timeout=30_000,
    )
    editor.locator("button[aria-label='Brush']").click()
    canvas = editor.locator("canvas").first.bounding_box()
    cx, cy = canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2
    page.mouse.move(cx - 40, cy)
    page.mouse.down()
    for i in range(9):  # a short horizontal stroke through the middle of the picture
        page.mouse.move(cx - 40 + i * 10, cy)
    page.mouse.up()
    page.locator("#edit-inpaint-run").click()
    wait_for_text(page, "edit-status", "Done: 384×256")
    assert "repainted the masked area" in page.locator("#edit-details").inner_text()
    result = _result_pixels(page).astype(int)
    original = np.asarray(Image.open(photo).convert("RGB")).astype(int)
    # The stroke (about 60 px long and a brush wide, grown 8 and feathered 8 more) sits in the middle:
    # the sides of the picture are far from it and keep their bytes.
    assert np.array_equal(result[:, :90], original[:, :90]) and np.array_equal(result[:, -90:], original[:, -90:])
    assert np.abs(result[124:132, 180:204] - original[124:132, 180:204]).mean() > 3  # under the brush: repainted
    assert_no_error_toast(page)


def test_an_image_tab_result_is_sent_to_outpaint_and_extended(page):
    draw_and_send(page, "a small boat", "Edit: outpaint")
    page.locator("#edit-outpaint-image img").wait_for(timeout=30_000)  # the Edit tab opened on Outpaint
    # The picture brings the prompt it was made with (the model too): the edit continues it.
    page.wait_for_function("() => document.querySelector('#edit-prompt textarea')?.value === 'a small boat'",
                           timeout=30_000)
    fill_numbers(page, {"edit-steps": 1, "edit-outpaint-left": 10})
    page.locator("#edit-outpaint-unit").get_by_text("%").click()
    page.locator("#edit-outpaint-run").click()
    wait_for_text(page, "edit-status", "Done: 288×256")  # 10% of 256 = 25.6 -> 26 px -> rounded up to 32
    assert "→ 32 px" in page.locator("#edit-details").inner_text()
    assert_no_error_toast(page)


def test_cancel_stops_an_outpaint_within_a_step_and_says_so(page, tmp_path):
    photo = tmp_path / "photo.png"
    picture(96, 64).save(photo)
    _open_edit(page, "Outpaint")
    fill_numbers(page, {"edit-steps": 150})
    page.locator("#edit-outpaint-image input[type=file]").set_input_files(str(photo))
    page.locator("#edit-outpaint-image img").wait_for()
    fill_numbers(page, {"edit-outpaint-right": 32})
    page.locator("#edit-outpaint-run").click()
    wait_for_text(page, "edit-status", "/", timeout=60_000)  # a step count: the run is going
    page.locator("#edit-cancel").click()
    wait_for_text(page, "edit-status", "Cancelled: nothing was saved.", timeout=30_000)
    page.locator("#edit-cancel").click()  # nothing left to stop: the status stays
    page.wait_for_timeout(1000)
    assert "Cancelled: nothing was saved." in page.locator("#edit-status").inner_text()
    assert_no_error_toast(page)
