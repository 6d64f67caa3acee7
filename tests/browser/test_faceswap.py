"""Browser: upload a source and a target photo (drawn by the test), see the numbered faces,
swap one, and see before and after side by side."""

from __future__ import annotations

from studio.faces.samples import draw_faces
from tests.browser.conftest import assert_no_error_toast, open_tab, wait_for_text


def test_upload_two_photos_find_faces_and_swap(page, tmp_path):
    source, target = tmp_path / "me.png", tmp_path / "group.png"
    draw_faces((640, 640), ((320, 320),), seed=1).save(source)
    draw_faces(seed=2).save(target)
    open_tab(page, "Face swap")
    assert "right to use" in page.locator("#faceswap-consent").inner_text()
    page.get_by_role("button", name="Models and licences").click()
    licences = page.locator("#faceswap-licences").inner_text()
    assert "inswapper_128" in licences and "non-commercial" in licences and "Apache-2.0" in licences
    page.locator("#faceswap-sources input[type=file]").set_input_files(str(source))
    # Read into memory, the uploaded file deleted; its faces are shown at once.
    wait_for_text(page, "faceswap-found", "held in this session", timeout=60_000)
    assert page.locator("#faceswap-source-view img").count() == 1
    page.locator("#faceswap-target input[type=file]").set_input_files(str(target))
    page.locator("#faceswap-target img").wait_for()

    page.locator("#faceswap-detect").click()
    wait_for_text(page, "faceswap-found", "3 face(s)", timeout=60_000)
    assert page.locator("#faceswap-target-view img").count() == 1
    assert page.locator("#faceswap-source-view img").count() == 1

    which = page.locator("#faceswap-which textarea, #faceswap-which input").first
    which.fill("2")
    page.locator("#faceswap-swap").click()
    wait_for_text(page, "faceswap-found", "Replaced face(s) 2", timeout=60_000)
    page.locator("#faceswap-after img").wait_for()
    page.locator("#faceswap-before img").wait_for()
    assert_no_error_toast(page)
