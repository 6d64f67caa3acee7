"""Refusals: every argument a type hint describes is checked in one place (NaN, infinity, a
fraction of a step, a giant choice), and a refusal raised where no reader is known (a GPU
worker, across ZeroGPU's fork) is worded again in the language of the page that shows it."""

from __future__ import annotations

import math
import pickle
from typing import Literal

import gradio as gr
import pytest

from studio.errors import BadInput
from tabs.common import Refusal, _as_gradio_error, friendly


@pytest.fixture(autouse=True)
def page_language_follows_the_reader(monkeypatch):
    """No --lang forced (another test's app may have built with one)."""
    from tabs import i18n

    monkeypatch.setitem(i18n.FORCED_LANG, "lang", "auto")


class _Page:
    def __init__(self, language: str):
        self.headers = {"accept-language": language}


def endpoint(steps: int = 4, cfg: float | None = None, mode: Literal["photo", "art"] = "photo",
             settings: dict | None = None, request: gr.Request = None) -> tuple:
    return steps, cfg, mode, settings


@pytest.mark.parametrize("arguments, sentence", [
    ({"steps": math.nan}, "Steps must be a number, not nan."),
    ({"steps": math.inf}, "Steps must be a number, not inf."),
    ({"steps": 2.5}, "Steps must be a whole number, not 2.5."),
    ({"steps": True}, "Steps must be a number, not True."),
    ({"cfg": -math.inf}, "Cfg must be a number, not -inf."),
    ({"mode": "x" * 200_000}, "Mode must be one of photo, art, not 'xxxxx"),
    ({"settings": "lr=1"}, "Settings must be an object of names and values"),
])
def test_every_hinted_argument_is_checked_in_one_place(arguments, sentence):
    with pytest.raises(gr.Error) as refused:
        friendly(endpoint)(**arguments)
    assert refused.value.message.startswith(sentence) and len(refused.value.message) < 200


def test_good_arguments_pass_as_their_type_and_none_means_the_default():
    assert friendly(endpoint)(steps=8.0, cfg=None, mode="art") == (8, None, "art", None)
    assert isinstance(friendly(endpoint)(steps=8.0)[0], int)
    assert friendly(endpoint)(steps=2**60 + 1)[0] == 2**60 + 1  # a whole number stays exact


def test_a_refusal_from_a_gpu_worker_reads_in_the_pages_language():
    worker_side = _as_gradio_error(BadInput("The prompt is empty: type something.", key="errors.prompt_empty"), None)
    assert isinstance(worker_side, Refusal) and worker_side.message.startswith("The prompt is empty")
    crossed = pickle.loads(pickle.dumps(worker_side))  # what ZeroGPU's fork hands back: a gr.Error, whole
    assert isinstance(crossed, gr.Error) and crossed.error.key == "errors.prompt_empty"
    shown = _as_gradio_error(crossed, _Page("zh-TW,zh;q=0.9"))
    assert shown.message.startswith("提示詞是空的") and shown.title == "錯誤"
    assert _as_gradio_error(crossed, _Page("en")).message.startswith("The prompt is empty")
