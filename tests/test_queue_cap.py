"""A full queue turns requests away with a clear sentence instead of queueing without limit.

A tiny Gradio app queued and served the way app.py does it, with ``--queue-size 1``: one
slow event runs, one waits, and the next request is refused, whether it comes from
gradio_client or from the web page.
"""

from __future__ import annotations

import threading
import time

import gradio as gr
import httpx
import pytest
from gradio_client import Client
from gradio_client.utils import QueueError, Status

from app import queue_full_handlers, queue_options
from studio.settings import load_settings
from tabs.i18n import Translator


@pytest.fixture()
def busy_app(tmp_path):
    settings = load_settings(["--queue-size", "1"], env={}, cwd=tmp_path)
    release = threading.Event()

    def slow(text: str) -> str:
        release.wait(60)
        return text

    with gr.Blocks() as demo:
        box = gr.Textbox()
        gr.Button().click(slow, box, box, api_name="slow", concurrency_limit=1)
    demo.queue(**queue_options(settings))
    _, url, _ = demo.launch(
        prevent_thread_lock=True, quiet=True,
        app_kwargs={"exception_handlers": queue_full_handlers(settings.queue_size, settings.lang)},
    )
    try:
        yield url, release
    finally:
        release.set()
        demo.close()


def wait_for(job, status: Status, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while job.status().code != status:
        assert time.monotonic() < deadline, f"job never reached {status}: {job.status()}"
        time.sleep(0.05)


def join_like_the_web_page(url: str, language: str) -> httpx.Response:
    """The request the browser's page sends to queue an event."""
    config = httpx.get(url + "config", timeout=10).json()
    fn_index = next(i for i, d in enumerate(config["dependencies"]) if d.get("api_name") == "slow")
    body = {"data": ["from the page"], "fn_index": fn_index, "session_hash": "page-session",
            "event_data": None, "trigger_id": None}
    return httpx.post(url + "gradio_api/queue/join", json=body, timeout=10,
                      headers={"accept-language": language, "user-agent": "Mozilla/5.0 Chromium"})


def test_the_request_beyond_the_queue_size_is_turned_away_clearly(busy_app):
    url, release = busy_app
    client = Client(url, verbose=False)
    running = client.submit("first", api_name="/slow")
    wait_for(running, Status.PROCESSING)
    waiting = client.submit("second", api_name="/slow")
    wait_for(waiting, Status.IN_QUEUE)

    # A script: gradio_client's own QueueError, which scripts can catch and retry on.
    with pytest.raises(QueueError, match="Queue is full"):
        client.predict("third", api_name="/slow")

    # A student's page: a sentence in their language rather than "application is busy".
    refused = join_like_the_web_page(url, "en-US,en;q=0.9")
    assert refused.status_code == 429 and refused.headers["retry-after"] == "30"
    assert refused.json()["detail"] == Translator.text("queue.full", "en").format(waiting=1)
    assert "queue is full" in refused.json()["detail"] and "Wait a minute" in refused.json()["detail"]
    refused_zh = join_like_the_web_page(url, "zh-TW,zh;q=0.9")
    assert "佇列已滿" in refused_zh.json()["detail"]

    release.set()  # once the queue drains, everyone is served again
    assert running.result(timeout=30) == "first" and waiting.result(timeout=30) == "second"
    assert client.predict("later", api_name="/slow") == "later"


def test_other_http_errors_are_left_as_they_were(busy_app):
    url, _ = busy_app
    response = httpx.post(url + "gradio_api/queue/join", json={"fn_index": 999, "session_hash": "x", "data": []},
                          timeout=10)
    assert response.status_code not in (429, 503)
