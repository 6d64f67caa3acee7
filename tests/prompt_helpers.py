"""What the prompt tests share: a small OpenAI-compatible server that answers every chat
request with a fixed reply and keeps the request bodies, so a test can check exactly what
was sent and see a well-formed English reply go through the real parser and UI."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

FOX_REPLY = (
    "Sure! Here is your prompt:\n"
    "Prompt: a red fox standing in deep snow, wildlife photograph, soft morning light, close-up, detailed fur\n"
    "Negative: blurry, low quality, watermark\n"
)


class ChatServer:
    def __init__(self, reply: str = FOX_REPLY):
        self.reply = reply
        self.bodies: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                server.bodies.append(json.loads(self.rfile.read(length) or b"{}"))
                events = [
                    {"choices": [{"delta": {"content": server.reply}, "finish_reason": None}]},
                    {"choices": [{"delta": {}, "finish_reason": "stop"}],
                     "usage": {"prompt_tokens": 50, "completion_tokens": 30}},
                ]
                payload = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
                data = payload.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # keep test output quiet
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def chat_server():
    server = ChatServer()
    yield server
    server.close()


def closed_port_url() -> str:
    """An endpoint where nothing listens: the port was bound, then released."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
