"""Tokenizer visualiser speed, two parts.

view: tokenizing 100k characters and building the whole view (tokens, bytes, chips, counts,
round trip, capped HTML), as a ratio against the bare ``tokenizer(text)`` call.
api: ``/tokenize`` end to end through gradio_client against ``python app.py --profile tiny``,
for 40k and 200k Chinese characters, compact and full answers: seconds and JSON megabytes.

Run: python benchmarks/tokens.py [--only view|api] [--chars 100000] [--runs 5]
[--api-chars 40000,200000] [--tokenizer FOLDER]; the real GPT-2 tokenizer in
../shared/reference is used when present, the tiny GPT-2 twin otherwise."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REFERENCE_GPT2 = ROOT.parent / "shared" / "reference" / "tokenizers" / "gpt2"
SAMPLE = "炎龍老師很幽默，學生都笑了。Unbelievable results come from believable steps: data, a loss.\n"
CHINESE = "炎龍老師很幽默，學生都笑了。今天天氣很好，我們去公園散步吧！台北的夜市有很多好吃的東西。\n"
SLOW_RUN = 20  # seconds: a run this slow is measured once, not best-of-N


def best_of(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
        if times[-1] > SLOW_RUN:
            break
    return min(times)


def repeat_to(sample: str, chars: int) -> str:
    return (sample * (chars // len(sample) + 1))[:chars]


def bench_view(args, tmp: Path) -> None:
    from transformers.models.auto.tokenization_auto import AutoTokenizer

    from studio.tokens import render, text_tokens

    if args.tokenizer:
        tokenizer, name = AutoTokenizer.from_pretrained(args.tokenizer), args.tokenizer
    else:  # no reference copy: the tiny GPT-2 twin, built into a temporary folder
        from studio.models import tiny

        name = "tiny:gpt2"
        tokenizer = AutoTokenizer.from_pretrained(tiny.ensure_built("gpt2", tmp))
    text = repeat_to(SAMPLE, args.chars)

    bare = best_of(args.runs, lambda: tokenizer(text))
    view_time = best_of(args.runs, lambda: text_tokens.build_view(tokenizer, text, name))
    view = text_tokens.build_view(tokenizer, text, name)
    html_time = best_of(args.runs, lambda: render.chips_html(view))
    ids_time = best_of(args.runs, lambda: ", ".join(map(str, view.ids)))
    total = view_time + html_time + ids_time
    html = render.chips_html(view)

    print(f"tokenizer: {name}")
    print(f"text: {len(text):,} characters -> {len(view.ids):,} tokens, {len(view.chips):,} chips "
          f"({min(len(view.chips), render.MAX_CHIPS):,} drawn, HTML {len(html) / 1024:.0f} KiB)")
    rows = [
        ("bare tokenizer(text)", bare),
        ("build_view: ids, offsets, bytes, counts, round trip", view_time),
        ("chips_html (capped)", html_time),
        ("id list text", ids_time),
        ("whole view", total),
    ]
    for label, seconds in rows:
        print(f"{label:<54}{seconds * 1000:8.1f} ms  {seconds / bare:6.2f}x the bare call")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_tiny_app(tmp: Path) -> tuple[subprocess.Popen, str]:
    import httpx

    port = free_port()
    args = [sys.executable, str(ROOT / "app.py"), "--profile", "tiny", "--port", str(port),
            "--cache-dir", str(tmp / "cache"), "--outputs", str(tmp / "outputs")]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(args, cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("the app did not start within 120 s")


def timed_tokenize(client, runs: int, **kwargs) -> tuple[float, dict | str]:
    """Best seconds of ``runs`` calls, and the answer (or the refusal's sentence)."""
    from gradio_client.exceptions import AppError

    best, answer = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        try:
            answer = client.predict(**kwargs, api_name="/tokenize")
        except AppError as exc:
            answer = str(exc)
        best = min(best, time.perf_counter() - started)
        if best > SLOW_RUN:
            break
    return best, answer


def bench_api(args, tmp: Path) -> None:
    from gradio_client import Client

    # A local folder is accepted because the benchmark's app listens on 127.0.0.1 only.
    tokenizer = args.tokenizer or "openai-community/gpt2"
    process, url = start_tiny_app(tmp)
    try:
        client = Client(url, verbose=False)
        client.predict(text="warm up", tokenizer=tokenizer, api_name="/tokenize")  # loads it once
        print(f"/tokenize through gradio_client, tokenizer {tokenizer}, Chinese text")
        for chars in args.api_chars:
            text = repeat_to(CHINESE, chars)
            for detail in ("compact", "full"):
                seconds, answer = timed_tokenize(client, args.api_runs, text=text, tokenizer=tokenizer, detail=detail)
                label = f"{chars:>9,} characters  {detail:<8}{seconds:8.2f} s  "
                if isinstance(answer, str):  # refused, e.g. detail="full" past its size limit
                    print(f"{label}refused: {answer[:70]}")
                    continue
                size = len(json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode())
                print(f"{label}{size / 1e6:5.1f} MB JSON  ({answer['counts']['tokens']:,} tokens)")
    finally:
        process.terminate()
        process.wait(timeout=20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("view", "api"))
    parser.add_argument("--chars", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--api-chars", type=lambda s: [int(n) for n in s.split(",")], default=[40_000, 200_000])
    parser.add_argument("--api-runs", type=int, default=3)
    parser.add_argument("--tokenizer", default=str(REFERENCE_GPT2) if REFERENCE_GPT2.is_dir() else "")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.only != "api":
            bench_view(args, Path(tmp))
        if args.only != "view":
            bench_api(args, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
