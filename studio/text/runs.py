"""Streaming without a second thread: ``model.generate`` in short runs on the caller's thread.

Each run is one ``generate`` call that continues from the previous run's KV cache, with the
same processors and the same die, so the tokens are exactly those of one long call. A run
costs one call's set-up (2-3 ms of Python), so runs grow from one token (the first one shows
at once) to about RUN_SECONDS of work: under 1% of the time, and two updates a second.

Why not a worker thread and a streamer: on a small CPU machine the worker gets an OpenMP
team of its own next to the caller's, and with more OpenMP threads than cores libgomp stops
spin-waiting and sleeps at every parallel region; add the GIL hand-offs and a per-token
decode in the streamer, and a reply streamed that way ran a quarter slower than a bare
``generate`` (see benchmarks/text.py). On the caller's thread there is nothing to hand off
and nothing to outlive the request: a stream that is closed simply never runs again.
"""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING, Any, Callable, Iterator

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel

RUN_SECONDS = 0.5
MAX_RUN_TOKENS = 64


@functools.cache
def cache_argument() -> str:
    """The name ``generate`` takes the KV cache under: transformers 5.24 renamed
    ``past_key_values`` to ``cache`` (the old name still works there, with a warning a call)."""
    import transformers
    from packaging.version import Version

    return "cache" if Version(transformers.__version__) >= Version("5.24.0.dev0") else "past_key_values"


def next_run_size(size: int, seconds: float, produced: int) -> int:
    """Double the run, up to what fits in RUN_SECONDS at the speed just measured."""
    per_token = seconds / max(produced, 1)
    fits = int(RUN_SECONDS / per_token) if per_token > 0 else MAX_RUN_TOKENS
    return max(1, min(2 * size, fits, MAX_RUN_TOKENS))


def generate_in_runs(
    model: PreTrainedModel,
    input_ids: torch.Tensor,
    max_new_tokens: int,
    finished: Callable[[torch.Tensor], bool],
    run_generate: Callable[[Callable[[], Any]], Any] = lambda call: call(),
    **generate_kwargs: Any,
) -> Iterator[torch.Tensor]:
    """Yield the whole sequence (prompt and reply so far) after each run, until the reply has
    ``max_new_tokens`` tokens, a run ends early (end of text, a stopping criterion) or
    ``finished(sequence)`` says so. ``run_generate`` wraps each call (error translation)."""
    import torch

    sequence, cache, size, produced = input_ids, None, 1, 0
    cache_name = cache_argument()
    while produced < max_new_tokens:
        size = min(size, max_new_tokens - produced)
        started = time.perf_counter()

        def call(sequence=sequence, cache=cache, size=size):
            # Per call, not around the loop: a suspended generator must not leave the
            # caller's thread in inference mode.
            with torch.inference_mode():
                return model.generate(
                    sequence,
                    attention_mask=torch.ones_like(sequence),
                    max_new_tokens=size,
                    **{cache_name: cache},
                    return_dict_in_generate=True,
                    **generate_kwargs,
                )

        out = run_generate(call)
        seconds = time.perf_counter() - started
        new = out.sequences.shape[1] - sequence.shape[1]
        sequence, cache = out.sequences, getattr(out, cache_name)
        produced += new
        yield sequence
        if new < size or finished(sequence):
            return
        size = next_run_size(size, seconds, new)
