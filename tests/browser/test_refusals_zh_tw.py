"""The common refusals, triggered in a zh-TW Chromium: each pop-up is a Chinese sentence under a
Chinese title, with no server path; a text file renamed .png gets the studio's sentence, not
Gradio's preprocessing error."""

from __future__ import annotations

import re

import pytest
from PIL import Image

from tests.browser.conftest import opened_page


CJK = re.compile(r"[\u4e00-\u9fff]")
SENTENCE = re.compile(r"\b[A-Za-z]{3,}(?: [A-Za-z]{2,}){2,}")  # three English words in a row


@pytest.fixture()
def zh_page(browser, running_app):
    with opened_page(browser, running_app.url, locale="zh-TW") as page:
        yield page


def _tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).locator("visible=true").first.click()


def _refusal(page, expected: str) -> str:
    """The error pop-up's text once it says ``expected``; then it is closed."""
    toast = page.locator(".toast-body.error, [data-testid='toast-body'].error").filter(has_text=expected)
    toast.first.wait_for(timeout=60_000)
    said = toast.first.inner_text()
    assert CJK.search(said) and not SENTENCE.search(said), said
    assert "/tmp" not in said and "Error" not in said and "錯誤" in said, said
    page.locator(".toast-close, [data-testid='toast-close']").first.click()
    return said


def test_the_common_refusals_read_in_chinese(zh_page, tmp_path):
    page = zh_page
    blank = tmp_path / "blank.png"
    Image.new("RGB", (256, 192), (40, 60, 120)).save(blank)
    notreally = tmp_path / "notreally.png"
    notreally.write_text("just some words, not a picture")
    empty_csv = tmp_path / "empty.csv"
    empty_csv.write_text("")

    _tab(page, "文字")  # an empty prompt
    page.locator("#text-prompt textarea").fill("")
    page.locator("#text-generate-btn").click()
    _refusal(page, "提示詞是空的")

    _tab(page, "編輯")  # a missing picture, then zero margins
    _tab(page, "放大")
    page.locator("#edit-upscale-run").click()
    _refusal(page, "缺少")  # the picture is missing
    _tab(page, "擴圖")
    page.locator("#edit-outpaint-image input[type='file']").set_input_files(str(blank))
    page.wait_for_timeout(800)
    page.locator("#edit-outpaint-run").click()
    _refusal(page, "四邊的擴展量都是 0")
    assert "四邊的擴展量都是 0" in page.locator("#edit-status").inner_text()  # the status says why, not "Starting…"

    _tab(page, "提示詞")  # a text file renamed .png, uploaded in the browser
    for accordion in page.locator("button.label-wrap:visible").all():  # Describe is folded away
        if "open" not in (accordion.get_attribute("class") or ""):
            accordion.click()
    page.locator("#prompt-describe-image input[type='file']").set_input_files(str(notreally))
    page.wait_for_timeout(800)
    page.locator("#prompt-describe").click()
    assert "notreally.png" in _refusal(page, "不是本程式能讀取的圖片")

    _tab(page, "換臉")  # no face found
    page.locator("#faceswap-sources input[type='file']").set_input_files(str(blank))
    page.locator("#faceswap-found").get_by_text("來源照片").first.wait_for(timeout=60_000)  # read and held
    page.locator("#faceswap-target input[type='file']").set_input_files(str(blank))
    page.wait_for_timeout(800)
    page.locator("#faceswap-swap").click()
    _refusal(page, "找不到臉")

    _tab(page, "訓練（LoRA）")  # an empty dataset
    page.locator("#train-dataset input[type='file']").set_input_files(str(empty_csv))
    _refusal(page, "是空的")
