"""Seconds from process start to the first HTTP 200, for the studio and for a bare Gradio
hello-world, printed with their ratio. Run: python benchmarks/startup.py [--runs 3]."""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HELLO = """
import gradio as gr
with gr.Blocks() as demo:
    gr.Textbox(label="hello")
demo.launch(server_port={port}, quiet=True)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seconds_to_first_200(args: list[str], port: int, timeout: float = 120) -> float:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - started < timeout:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"no HTTP 200 within {timeout}s from {' '.join(args)}")
    finally:
        process.terminate()
        process.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        hello = Path(tmp) / "hello.py"
        studio, bare = [], []
        for _ in range(options.runs):
            port = free_port()
            studio.append(seconds_to_first_200(
                [sys.executable, "app.py", "--profile", "tiny", "--port", str(port),
                 "--cache-dir", str(Path(tmp) / "cache"), "--outputs", str(Path(tmp) / "out")], port))
            port = free_port()
            hello.write_text(HELLO.format(port=port))
            bare.append(seconds_to_first_200([sys.executable, str(hello)], port))
    s, b = statistics.median(studio), statistics.median(bare)
    print(f"studio (--profile tiny): {s:.2f}s median of {options.runs} {[round(x, 2) for x in studio]}")
    print(f"bare gradio hello-world: {b:.2f}s median of {options.runs} {[round(x, 2) for x in bare]}")
    print(f"ratio studio / bare: {s / b:.2f}")


if __name__ == "__main__":
    main()
