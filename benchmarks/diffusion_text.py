"""Diffusion text speed: the studio's time per step against a bare forward pass of the same model
at the same sequence length, as a ratio (bare seconds per pass / studio seconds per step;
target >= 0.95, i.e. at most 5% of sampler overhead: choosing tokens, remasking, decoding the
step record, the cache and the chat template).

    python benchmarks/diffusion_text.py                  # full-size ModernBERT-base, random weights, CPU
    python benchmarks/diffusion_text.py --size tiny      # the tiny twin itself (plumbing only)
    python benchmarks/diffusion_text.py --profile standard --model dllm-hub/ModernBERT-base-chat-v0.1

The full-size body is ModernBertConfig's defaults, ModernBERT-base's shape (hidden 768, 22 layers,
12 heads, 50,368-token LM head), with random weights: the same FLOPs as the real model, no download;
the tokenizer is the twin's. Every studio step is paired with bare passes timed just before and
just after it, so the ratio holds on a shared machine whose speed drifts by the second.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.context import StudioContext  # noqa: E402
from studio.settings import load_settings  # noqa: E402
from studio.text.diffusion.request import DiffusionRequest  # noqa: E402
from studio.text.diffusion.stream import lay_out, stream_diffusion  # noqa: E402

PROMPT = "Explain in two sentences how a diffusion language model writes an answer."


class FullSizeContext(StudioContext):
    """The twin's tokenizer with a full-size random-weight ModernBERT-base masked LM."""

    def _load(self, spec):
        import torch
        from transformers import ModernBertConfig
        from transformers.models.auto.modeling_auto import AutoModelForMaskedLM

        masked_lm = super()._load(spec)
        small = masked_lm.model.config
        config = ModernBertConfig(  # defaults: ModernBERT-base; the twin's special-token ids
            pad_token_id=small.pad_token_id, bos_token_id=small.bos_token_id, eos_token_id=small.eos_token_id,
            cls_token_id=small.cls_token_id, sep_token_id=small.sep_token_id,
        )
        torch.manual_seed(0)
        masked_lm.model = AutoModelForMaskedLM.from_config(config, dtype=self.torch_dtype(spec)).eval()
        return masked_lm


@dataclass
class Timing:
    """Wall seconds, and CPU seconds of this process (all its threads): a neighbour's load
    stretches the first, hardly the second."""

    wall: float = 0.0
    cpu: float = 0.0

    @classmethod
    def now(cls) -> "Timing":
        return cls(time.perf_counter(), time.process_time())

    def __add__(self, other: "Timing") -> "Timing":
        return Timing(self.wall + other.wall, self.cpu + other.cpu)

    def __sub__(self, other: "Timing") -> "Timing":
        return Timing(self.wall - other.wall, self.cpu - other.cpu)

    def mean(self, other: "Timing") -> "Timing":
        return Timing((self.wall + other.wall) / 2, (self.cpu + other.cpu) / 2)


def bare_pass(model, ids) -> Timing:
    """What a script would write: one ``model(ids).logits``."""
    import torch

    started = Timing.now()
    with torch.inference_mode():
        model(input_ids=ids).logits
    return Timing.now() - started


def paired_run(ctx: StudioContext, request: DiffusionRequest) -> tuple[list[Timing], list[Timing], Timing]:
    """One studio run, each of its steps bracketed by a bare pass of the same model on same-length
    ids just before and just after it (while the stream waits): a busy neighbour slows both sides
    of a pair alike.

    Returns the studio's time per step (from resuming the stream to its next record), the mean of
    each step's two bare passes, and the studio's whole time (checks, cache, template, records,
    the result)."""
    import torch

    with ctx.cache.use(ctx.spec("diffusion_text", request.model_id or None)) as masked_lm:
        model, tokenizer = masked_lm.model, masked_lm.tokenizer
        layout = lay_out(tokenizer, request.prompt)
        ids = torch.tensor([layout.prefix + [tokenizer.mask_token_id] * request.length + layout.suffix], device=model.device)
        studio, bare, whole = [], [], Timing()
        stream = stream_diffusion(ctx, request)
        try:
            before = bare_pass(model, ids)
            while True:
                started = Timing.now()
                update = next(stream)
                step = Timing.now() - started
                whole += step
                if update.result is not None:
                    break
                if update.step.step > 0:  # step 0 is the starting row: no pass yet
                    after = bare_pass(model, ids)
                    studio.append(step)
                    bare.append(before.mean(after))
                    before = after  # also the next step's "before"
        finally:
            stream.close()
    return studio, bare, whole


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="tiny", choices=("tiny", "standard"))
    parser.add_argument("--size", default="full", choices=("full", "tiny"), help="tiny profile: full-size body or the twin")
    parser.add_argument("--model", default="", help="catalog / Hub id (default: the profile's diffusion model)")
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--block-length", type=int, default=32)
    parser.add_argument("--remasking", default="low_confidence", choices=("low_confidence", "random"))
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--cache-dir", default=".cache/studio")
    args = parser.parse_args(argv)

    settings = load_settings(["--profile", args.profile, "--device", args.device, "--cache-dir", args.cache_dir], env={})
    full = args.profile == "tiny" and args.size == "full"
    ctx = FullSizeContext(settings) if full else StudioContext(settings)
    request = DiffusionRequest(
        PROMPT, model_id=args.model, length=args.length, steps=args.steps, block_length=args.block_length,
        remasking=args.remasking, temperature=args.temperature, seed=1,
    )
    paired_run(ctx, request)  # warm-up: load, allocator, kernels
    studio_steps, bare_steps, whole_ratios = [], [], []
    for _ in range(args.repeats):
        studio, bare, whole = paired_run(ctx, request)
        studio_steps += studio
        bare_steps += bare
        whole_ratios.append(sum(b.wall for b in bare) / whole.wall)
    wall = [b.wall / s.wall for b, s in zip(bare_steps, studio_steps)]
    cpu = [b.cpu / s.cpu for b, s in zip(bare_steps, studio_steps)]
    with ctx.cache.use(ctx.spec("diffusion_text", args.model or None)) as masked_lm:
        sequence = len(lay_out(masked_lm.tokenizer, PROMPT).prefix) + args.length
        shape = masked_lm.model.config
    print(
        f"profile {args.profile} · model {args.model or 'default'}{' as full-size ModernBERT-base (random weights)' if full else ''} "
        f"({shape.num_hidden_layers} layers, hidden {shape.hidden_size}, vocabulary {shape.vocab_size}) · device "
        f"{ctx.describe_device()} · {sequence} tokens per pass · {args.steps} steps, blocks of {args.block_length}, "
        f"{args.remasking}, T={args.temperature:g}"
    )
    quartiles = statistics.quantiles(wall, n=4)
    print(
        f"ratio {statistics.median(wall):.3f} (median of {len(wall)} paired steps, quartiles {quartiles[0]:.3f}-"
        f"{quartiles[2]:.3f}) · CPU-time ratio {statistics.median(cpu):.3f} · whole-run ratio "
        f"{statistics.median(whole_ratios):.3f} (set-up and result included) · bare pass "
        f"{statistics.median(b.wall for b in bare_steps) * 1000:.0f} ms · studio step "
        f"{statistics.median(s.wall for s in studio_steps) * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
