"""The OpenAI-compatible backend against a real HTTP server on 127.0.0.1 that speaks the
chat-completions streaming protocol (server-sent events)."""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from studio.errors import BadInput, StudioError
from studio.text import service
from studio.text.remote import API_KEY_ENV, BASE_URL_ENV, RemoteEndpoint, remote_next_token_table, stream_remote
from studio.text.results import GenerationRequest
from studio.text.sampling import SamplingSettings

SECRET = "sk-test-very-secret-key"
REPLY = ["從前", "從前，", "有一隻", " small", " dragon."]


class FakeOpenAI(BaseHTTPRequestHandler):
    """Chat completions (streamed), completions with logprobs; 401 without the right key."""

    requests: list[dict] = []
    slow = False
    logprobs = True

    def log_message(self, *args):  # keep test output quiet
        pass

    def _json(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        if self.headers.get("Authorization") != f"Bearer {SECRET}":
            return self._json(401, {"error": {"message": "Incorrect API key provided"}})
        if self.path == "/v1/chat/completions" and body.get("stream"):
            return self._stream(body, lambda piece: {"delta": {"content": piece}})
        if self.path == "/v1/completions" and body.get("stream"):
            return self._stream(body, lambda piece: {"text": piece})
        if self.path == "/v1/completions":
            choice = {"index": 0, "text": " 有", "finish_reason": "length"}
            if type(self).logprobs:
                top = {" 有": -0.5, " 是": -1.5, "，": -2.0, " the": -3.0, "。": -4.0}
                choice["logprobs"] = {"tokens": [" 有"], "token_logprobs": [-0.5], "top_logprobs": [top]}
            return self._json(200, {"choices": [choice], "usage": {"prompt_tokens": 4, "completion_tokens": 1}})
        return self._json(404, {"error": {"message": "not found"}})

    def _stream(self, body, choice_for):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        pieces = REPLY * (40 if type(self).slow else 1)
        try:
            for piece in pieces[: body.get("max_tokens", 100)]:
                event = {"id": "x", "object": "chat.completion.chunk", "choices": [{"index": 0, **choice_for(piece), "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                self.wfile.flush()
                if type(self).slow:
                    time.sleep(0.05)
            final = {"choices": [{"index": 0, **choice_for(""), "finish_reason": "stop"}]}
            self.wfile.write(f"data: {json.dumps(final)}\n\n".encode())
            usage = {"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": len(pieces)}}
            self.wfile.write(f"data: {json.dumps(usage)}\n\ndata: [DONE]\n\n".encode())
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up: that is how Stop looks from here


@pytest.fixture()
def fake_server():
    FakeOpenAI.requests, FakeOpenAI.slow, FakeOpenAI.logprobs = [], False, True
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def _chat_request(**kwargs):
    settings = SamplingSettings(temperature=0.8, top_p=0.9, top_k=0, max_new_tokens=50, stop_strings=("END",))
    return GenerationRequest("講個故事", "chat", system_prompt="Be brief.", history=[{"role": "user", "content": "hi"},
                             {"role": "assistant", "content": "hello"}], settings=settings, seed=7, **kwargs)


def test_chat_streams_from_an_openai_compatible_server(fake_server, caplog):
    caplog.set_level(logging.DEBUG)
    endpoint = RemoteEndpoint.from_inputs(fake_server, "fake-model", SECRET)
    updates = list(stream_remote(endpoint, _chat_request()))
    texts = [u.text for u in updates if u.result is None and u.text]
    assert texts[0] == REPLY[0] and texts[-1] == "".join(REPLY) and len(texts) == len(REPLY)
    result = updates[-1].result
    assert result.text == "".join(REPLY) and result.generated_tokens == len(REPLY) and result.prompt_tokens == 7
    assert result.backend == "openai-compatible" and result.tokens_per_second > 0

    sent = FakeOpenAI.requests[-1]
    assert sent["path"] == "/v1/chat/completions" and sent["auth"] == f"Bearer {SECRET}"
    body = sent["body"]
    assert body["stream"] is True and body["model"] == "fake-model"
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"}, {"role": "user", "content": "講個故事"},
    ]
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["seed"], body["stop"]) == (0.8, 0.9, 50, 7, ["END"])
    assert "top_k" not in body  # an extension: only sent when switched on
    # The key went into the header only: not into results, repr or logs.
    assert SECRET not in json.dumps(result.summary(), ensure_ascii=False)
    assert SECRET not in repr(endpoint) and SECRET not in caplog.text


def test_completion_mode_uses_the_completions_endpoint(fake_server):
    endpoint = RemoteEndpoint.from_inputs(fake_server, "fake-model", SECRET)
    settings = SamplingSettings(decoding="greedy", max_new_tokens=3)
    result = service.run_generation(None, GenerationRequest("從前從前", "completion", settings=settings), endpoint)
    assert result.text == "".join(REPLY[:3])
    sent = FakeOpenAI.requests[-1]
    assert sent["path"] == "/v1/completions" and sent["body"]["prompt"] == "從前從前"
    assert sent["body"]["temperature"] == 0.0  # greedy


def test_api_key_from_the_environment_only_for_the_servers_own_endpoint(fake_server, monkeypatch):
    monkeypatch.setenv(API_KEY_ENV, SECRET)
    monkeypatch.setenv(BASE_URL_ENV, fake_server)
    endpoint = RemoteEndpoint.from_inputs(fake_server, "fake-model", "")
    assert service.run_generation(None, _chat_request(), endpoint).text == "".join(REPLY)
    elsewhere = RemoteEndpoint.from_inputs("http://attacker.invalid/v1", "m", "")
    assert "Authorization" not in elsewhere.headers()  # the teacher's key never leaves for another URL


def test_a_shared_server_only_talks_to_the_configured_endpoint(fake_server, monkeypatch, tmp_path):
    from studio.settings import load_settings

    shared = load_settings(["--share"], env={}, cwd=tmp_path)
    local = load_settings([], env={}, cwd=tmp_path)
    monkeypatch.delenv(BASE_URL_ENV, raising=False)
    with pytest.raises(BadInput, match="teacher configured"):
        service.endpoint_for(shared, "openai", "http://10.0.0.1/v1", "m", "k")
    assert service.endpoint_for(local, "openai", "http://10.0.0.1/v1", "m", "k").base_url == "http://10.0.0.1/v1"
    monkeypatch.setenv(BASE_URL_ENV, fake_server)
    assert service.endpoint_for(shared, "openai", "", "fake-model", "").base_url == fake_server
    with pytest.raises(BadInput, match="teacher configured"):
        service.endpoint_for(shared, "openai", "http://169.254.169.254/v1", "m", "")


def test_wrong_key_and_unreachable_server_are_clear_errors(fake_server):
    wrong = RemoteEndpoint.from_inputs(fake_server, "fake-model", "sk-wrong-key")
    with pytest.raises(StudioError, match="API key") as caught:
        service.run_generation(None, _chat_request(), wrong)
    assert "sk-wrong-key" not in str(caught.value)
    nowhere = RemoteEndpoint.from_inputs("http://127.0.0.1:9/v1", "m", SECRET)
    with pytest.raises(StudioError, match="Cannot reach"):
        service.run_generation(None, _chat_request(), nowhere)
    with pytest.raises(BadInput, match="http"):
        RemoteEndpoint.from_inputs("localhost:1234", "m")


def test_stop_closes_the_stream(fake_server):
    FakeOpenAI.slow = True  # 200 pieces, 50 ms apart
    endpoint = RemoteEndpoint.from_inputs(fake_server, "fake-model", SECRET)
    cancel = threading.Event()
    started = time.perf_counter()
    result = None
    for update in stream_remote(endpoint, _chat_request(), cancel):
        if update.text:
            cancel.set()
        result = update.result or result
    assert result.stopped_by == "stopped by you"
    assert len(result.text) < len("".join(REPLY)) and time.perf_counter() - started < 3


def test_explorer_uses_logprobs(fake_server):
    endpoint = RemoteEndpoint.from_inputs(fake_server, "fake-model", SECRET)
    settings = SamplingSettings(decoding="sample", temperature=1.0, top_k=2, top_p=1.0)
    table = remote_next_token_table(endpoint, "從前從前", settings, top_n=5)
    assert [c.token for c in table.candidates] == [" 有", " 是", "，", " the", "。"]
    assert [c.kept for c in table.candidates] == [True, True, False, False, False]
    assert sum(c.filtered_probability for c in table.candidates) == pytest.approx(1.0)
    assert "top 5" in table.note
    assert FakeOpenAI.requests[-1]["body"]["logprobs"] == 5 and FakeOpenAI.requests[-1]["body"]["max_tokens"] == 1


def test_explorer_says_plainly_when_there_are_no_logprobs(fake_server):
    FakeOpenAI.logprobs = False
    endpoint = RemoteEndpoint.from_inputs(fake_server, "fake-model", SECRET)
    with pytest.raises(BadInput, match="does not return token probabilities"):
        remote_next_token_table(endpoint, "從前從前", SamplingSettings(), top_n=5)


def test_a_saved_record_never_holds_the_api_key(fake_server, tmp_path):
    from studio.text import records

    endpoint = RemoteEndpoint.from_inputs(fake_server, "fake-model", SECRET)
    request = _chat_request()
    result = service.run_generation(None, request, endpoint)
    saved = records.save_generation(tmp_path, request, result).read_text()
    assert SECRET not in saved and result.text in saved


def test_a_bad_seed_for_a_remote_endpoint_is_a_clear_error(fake_server):
    endpoint = RemoteEndpoint.from_inputs(fake_server, "fake-model", SECRET)
    request = _chat_request()
    request.seed = "abc"
    with pytest.raises(BadInput, match="Seed must be a whole number"):
        service.run_generation(None, request, endpoint)
