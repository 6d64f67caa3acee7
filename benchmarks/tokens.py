"""Tokenizer visualiser speed: tokenizing 100k characters and building the whole view
(tokens, bytes, chips, counts, round trip, capped HTML), as a ratio against the bare
``tokenizer(text)`` call. Run: python benchmarks/tokens.py [--chars 100000] [--runs 5]
[--tokenizer FOLDER]; the real GPT-2 tokenizer in ../shared/reference is used when present."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REFERENCE_GPT2 = ROOT.parent / "shared" / "reference" / "tokenizers" / "gpt2"
SAMPLE = "炎龍老師很幽默，學生都笑了。Unbelievable results come from believable steps: data, a loss.\n"


def best_of(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chars", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tokenizer", default=str(REFERENCE_GPT2) if REFERENCE_GPT2.is_dir() else "")
    args = parser.parse_args()

    from transformers.models.auto.tokenization_auto import AutoTokenizer

    from studio.tokens import render, text_tokens

    if args.tokenizer:
        tokenizer, name = AutoTokenizer.from_pretrained(args.tokenizer), args.tokenizer
    else:  # no reference copy: the tiny GPT-2 twin, built into a temporary folder
        import tempfile

        from studio.models import tiny

        name = "tiny:gpt2"
        tokenizer = AutoTokenizer.from_pretrained(tiny.ensure_built("gpt2", Path(tempfile.mkdtemp())))
    text = (SAMPLE * (args.chars // len(SAMPLE) + 1))[: args.chars]

    bare = best_of(args.runs, lambda: tokenizer(text))
    view_time = best_of(args.runs, lambda: text_tokens.build_view(tokenizer, text, name))
    view = text_tokens.build_view(tokenizer, text, name)
    html_time = best_of(args.runs, lambda: render.chips_html(view))
    ids_time = best_of(args.runs, lambda: ", ".join(map(str, view.ids)))
    total = view_time + html_time + ids_time
    html = render.chips_html(view)

    print(f"tokenizer: {name}")
    print(f"text: {len(text):,} characters -> {len(view.tokens):,} tokens, {len(view.chips):,} chips "
          f"({min(len(view.chips), render.MAX_CHIPS):,} drawn, HTML {len(html) / 1024:.0f} KiB)")
    rows = [
        ("bare tokenizer(text)", bare),
        ("build_view: tokens, bytes, chips, counts, round trip", view_time),
        ("chips_html (capped)", html_time),
        ("id list text", ids_time),
        ("whole view", total),
    ]
    for label, seconds in rows:
        print(f"{label:<54}{seconds * 1000:8.1f} ms  {seconds / bare:6.2f}x the bare call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
