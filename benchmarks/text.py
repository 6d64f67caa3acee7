"""Text tab speed: tokens/s of the tab's generate function against a bare ``model.generate``
on the same model and settings (as a ratio; target >= 0.97), and time to the first streamed token.

    python benchmarks/text.py                                   # tiny twin, offline
    python benchmarks/text.py --full-size qwen2.5-0.5b --repeats 3   # real-size body, random weights
    python benchmarks/text.py --profile standard --model Qwen/Qwen2.5-1.5B-Instruct

The number to read is the paired ratio: each repeat runs the bare call and the studio back to
back, and the median of those per-pair ratios cancels the drift of a shared machine (on this
2-core VM single runs move by 10%); best-of-N rates and their ratio are printed too.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.context import StudioContext  # noqa: E402
from studio.settings import load_settings  # noqa: E402
from studio.text.generate import generate_text, stream_local  # noqa: E402
from studio.text.results import GenerationRequest  # noqa: E402
from studio.text.sampling import SamplingSettings  # noqa: E402

PROMPT = "Once upon a time, in a small village by the sea,"


def bare_generate(ctx, request: GenerationRequest) -> tuple[float, int, list[int]]:
    """What a script would write: tokenize, model.generate with the same knobs, decode."""
    import torch

    s = request.settings
    with ctx.cache.use(ctx.spec("text", request.model_id)) as tm:
        started = time.perf_counter()
        ids = tm.tokenizer(request.prompt, return_tensors="pt").input_ids.to(tm.model.device)
        torch.manual_seed(request.seed or 0)
        with torch.inference_mode():
            out = tm.model.generate(
                ids, attention_mask=torch.ones_like(ids), max_new_tokens=s.max_new_tokens,
                do_sample=s.samples, temperature=s.temperature if s.samples else None,
                top_k=s.top_k if s.samples else None, top_p=s.top_p if s.samples else None,
                repetition_penalty=s.repetition_penalty, pad_token_id=tm.tokenizer.pad_token_id,
            )
        new = out[0, ids.shape[1]:].tolist()
        tm.tokenizer.decode(new, skip_special_tokens=True)
        return time.perf_counter() - started, len(new), new


def studio_generate(ctx, request: GenerationRequest) -> tuple[float, int, str]:
    started = time.perf_counter()
    result = generate_text(ctx, request)
    return time.perf_counter() - started, result.generated_tokens, result.text


def first_token_seconds(ctx, request: GenerationRequest) -> float:
    started = time.perf_counter()
    stream = stream_local(ctx, request)
    try:
        for update in stream:
            if update.text:
                return time.perf_counter() - started
        return float("nan")
    finally:
        stream.close()  # as a closed tab would: the rest is never generated


# Real architectures with random weights (same FLOPs as the real model, no download).
FULL_SIZE = {
    "qwen2.5-0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                         num_attention_heads=14, num_key_value_heads=2),
    "qwen2.5-1.5b": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
                         num_attention_heads=12, num_key_value_heads=2),
}


class FullSizeContext(StudioContext):
    """Loads the tiny twin's tokenizer with a full-size random-weight Qwen2 body. The twin's
    small vocabulary keeps the LM head small, so this slightly flatters the model's speed."""

    shape: dict = {}

    def _load(self, spec):
        import torch
        from transformers import AutoModelForCausalLM, Qwen2Config

        text_model = super()._load(spec)
        small = text_model.model.config
        config = Qwen2Config(
            vocab_size=small.vocab_size, bos_token_id=small.bos_token_id, eos_token_id=small.eos_token_id,
            pad_token_id=small.pad_token_id, tie_word_embeddings=True, max_position_embeddings=4096, **self.shape,
        )
        torch.manual_seed(0)
        text_model.model = AutoModelForCausalLM.from_config(config, dtype=self.torch_dtype(spec)).eval()
        return text_model


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="tiny", choices=("tiny", "standard"))
    parser.add_argument("--model", default=None, help="catalog / Hub id (default: the profile's text model)")
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--cache-dir", default=".cache/studio")
    parser.add_argument("--full-size", choices=sorted(FULL_SIZE), help="tiny profile: a real-size random-weight Qwen2 body")
    args = parser.parse_args(argv)

    settings = load_settings(["--profile", args.profile, "--device", args.device, "--cache-dir", args.cache_dir], env={})
    if args.full_size:
        FullSizeContext.shape = FULL_SIZE[args.full_size]
        ctx = FullSizeContext(settings)
    else:
        ctx = StudioContext(settings)
    model = args.model or "default"
    print(f"profile {args.profile} · model {model}{' as ' + args.full_size if args.full_size else ''} · "
          f"device {ctx.describe_device()} · {args.tokens} new tokens")
    for label, knobs in (
        ("greedy", dict(decoding="greedy", repetition_penalty=1.0)),
        ("sampling T=0.8 top-k 50 top-p 0.9", dict(decoding="sample", temperature=0.8, top_k=50, top_p=0.9, repetition_penalty=1.0)),
    ):
        s = SamplingSettings(max_new_tokens=args.tokens, **knobs)
        request = GenerationRequest(PROMPT, "completion", args.model, settings=s, seed=1)
        bare_generate(ctx, request), studio_generate(ctx, request)  # warm-up: load, caches, kernels
        bare_rates, studio_rates, same = [], [], True
        for _ in range(args.repeats):  # interleaved so drift hits both alike
            seconds, count, bare_ids = bare_generate(ctx, request)
            bare_rates.append(count / seconds)
            seconds, count, text = studio_generate(ctx, request)
            studio_rates.append(count / seconds)
            same &= count == len(bare_ids)
        paired = [ours / bare for ours, bare in zip(studio_rates, bare_rates)]
        bare, ours = max(bare_rates), max(studio_rates)
        ttft = statistics.median(first_token_seconds(ctx, request) for _ in range(args.repeats))
        print(
            f"{label:34s} ratio {statistics.median(paired):.3f} (median of {len(paired)} pairs, "
            f"{min(paired):.3f}-{max(paired):.3f}) · bare {bare:.1f} tok/s (runs {min(bare_rates):.1f}-{bare:.1f}) · "
            f"studio {ours:.1f} tok/s (runs {min(studio_rates):.1f}-{ours:.1f}) · best-of ratio {ours / bare:.3f} · "
            f"first streamed token {ttft * 1000:.0f} ms · same length: {same}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
