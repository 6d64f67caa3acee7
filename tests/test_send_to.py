"""Send to: a prompt and its negative sent to a tab by the server, in the page's language."""

from __future__ import annotations

import gradio as gr
import pytest

from tabs.i18n import Translator
from tabs.send_to import SendTo


def _prompt_sender():
    with gr.Blocks():
        with gr.Tabs() as tabs:
            with gr.Tab("Prompt", id="prompt"):
                output, negative, button = gr.Textbox(), gr.Textbox(), gr.Button()
            with gr.Tab("Image", id="image"):
                image_prompt, image_negative = gr.Textbox(), gr.Textbox()
        send_to = SendTo()
        send_to.register_prompt("image", image_prompt, image_negative, "image")
        send_to.prompt_source(button, output, negative, "image")
        send_to.wire(tabs, Translator("auto"))
    return send_to._prompt_sender(send_to.prompt_targets["image"], Translator("auto"))


def test_the_prompt_and_negative_land_and_the_tab_opens():
    prompt, negative, tab = _prompt_sender()("a red fox in snow", "blurry")
    assert (prompt, negative) == ("a red fox in snow", "blurry")
    assert tab.selected == "image"


def test_an_empty_negative_keeps_the_one_already_there():
    _, negative, _ = _prompt_sender()("a red fox in snow", "  ")
    assert isinstance(negative, type(gr.skip()))


@pytest.mark.parametrize("prompt", ["", "   ", None])
def test_nothing_to_send_is_refused_in_words(prompt):
    with pytest.raises(gr.Error, match="no prompt to send"):
        _prompt_sender()(prompt, "blurry")


def test_the_refusal_follows_the_pages_language():
    class ChineseRequest:
        headers = {"accept-language": "zh-TW,zh;q=0.9"}
        cookies: dict = {}

    with pytest.raises(gr.Error, match="還沒有可以傳送的提示詞"):
        _prompt_sender()("", "", request=ChineseRequest())
