"""How a local reply streams: in runs of generate on the caller's thread (the same tokens as
one call), beam search in a worker that never outlives its request, a clean interpreter exit."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import torch

from studio.text.generate import _showable, generate_text, stream_local
from studio.text.results import GenerationRequest
from studio.text.runs import MAX_RUN_TOKENS, RUN_SECONDS, next_run_size
from studio.text.sampling import SamplingSettings
from studio.text.worker import THREAD_NAME, GenerationWorker, running_workers
from tests.conftest import ROOT

PROMPT = "Once upon a time"


def _generation_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


def _gone_within(seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _generation_threads() or running_workers():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _slow_forward(monkeypatch, ctx, seconds: float) -> None:
    model = ctx.cache.get(ctx.spec("text")).model
    original = model.forward

    def forward(*args, **kwargs):
        time.sleep(seconds)
        return original(*args, **kwargs)

    monkeypatch.setattr(model, "forward", forward)


def test_runs_give_exactly_the_tokens_of_one_generate_call(studio_ctx):
    settings = SamplingSettings(decoding="greedy", repetition_penalty=1.3, no_repeat_ngram_size=3, max_new_tokens=150)
    result = generate_text(studio_ctx, GenerationRequest(PROMPT, "completion", settings=settings))
    with studio_ctx.cache.use(studio_ctx.spec("text")) as text_model:
        ids = text_model.tokenizer(PROMPT, return_tensors="pt").input_ids
        with torch.inference_mode():
            whole = text_model.model.generate(
                ids, attention_mask=torch.ones_like(ids), max_new_tokens=150, do_sample=False,
                repetition_penalty=1.3, no_repeat_ngram_size=3, pad_token_id=text_model.tokenizer.pad_token_id,
            )
        expected = text_model.tokenizer.decode(whole[0, ids.shape[1]:], skip_special_tokens=True)
    assert result.generated_tokens == whole.shape[1] - ids.shape[1]
    assert result.text == expected


@pytest.mark.parametrize("decoding", ["greedy", "sample"])
def test_greedy_and_sampling_stream_without_a_thread(studio_ctx, decoding):
    settings = SamplingSettings(decoding=decoding, temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=200)
    updates = 0
    for update in stream_local(studio_ctx, GenerationRequest(PROMPT, "completion", settings=settings, seed=4)):
        updates += 1
        assert not _generation_threads()
    assert updates >= 4  # several runs, each one an update


@pytest.mark.parametrize("decoding", ["greedy", "beam"])
@pytest.mark.parametrize("how", ["closed", "dropped"])
def test_no_generation_thread_outlives_a_stream_ended_early(studio_ctx, monkeypatch, decoding, how):
    _slow_forward(monkeypatch, studio_ctx, seconds=0.2)
    settings = SamplingSettings(decoding=decoding, num_beams=2, repetition_penalty=1.0, max_new_tokens=2000)
    stream = stream_local(studio_ctx, GenerationRequest(PROMPT, "completion", settings=settings))
    next(stream)  # the prompt is rendered
    next(stream)  # generation is under way (a piece of text, or a beam search heartbeat)
    if how == "closed":
        stream.close()  # what Gradio does when the event is cancelled
    else:
        del stream  # a tab closed: the stream is simply let go
        gc.collect()
    assert _gone_within(3.0), _generation_threads()


def test_a_finished_beam_search_has_joined_its_worker(studio_ctx):
    settings = SamplingSettings(decoding="beam", num_beams=2, max_new_tokens=6)
    generate_text(studio_ctx, GenerationRequest(PROMPT, "completion", settings=settings))
    assert not _generation_threads() and not running_workers()


def test_workers_still_running_at_exit_are_stopped_so_the_process_exits_cleanly():
    """A daemon thread still inside torch when the interpreter exits aborts the process
    ("terminate called without an active exception", exit 134); a worker is stopped first."""
    script = textwrap.dedent(
        """
        import time, torch
        from studio.text.worker import GenerationWorker

        def work(cancel):
            a = torch.randn(300, 300)
            while not cancel.is_set():
                a = torch.tanh(a @ a)

        GenerationWorker(work).start()
        time.sleep(0.5)
        print("leaving with a worker running")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-1000:]
    assert "terminate called" not in done.stderr


def test_a_worker_error_reaches_the_caller():
    def work(cancel):
        raise ValueError("boom")

    worker = GenerationWorker(work).start()
    assert worker.join(10) and isinstance(worker.error, ValueError) and worker.result is None


def test_run_sizes_grow_from_one_token_to_the_time_budget():
    assert next_run_size(1, seconds=0.001, produced=1) == 2  # doubling while fast
    assert next_run_size(32, seconds=0.001, produced=32) == MAX_RUN_TOKENS
    per_token = 0.1
    assert next_run_size(8, seconds=8 * per_token, produced=8) == int(RUN_SECONDS / per_token)
    assert next_run_size(4, seconds=10.0, produced=4) == 1  # a slow model: one token per update


def test_a_growing_reply_shows_no_half_character_and_no_part_of_a_stop_string():
    assert _showable("Hello wor", ()) == "Hello wor"
    assert _showable("你好\ufffd", ()) == "你好"  # the next token completes that character
    assert _showable("Hi there\nUs", ("\nUser:",)) == "Hi there"  # may become the stop string
    assert _showable("Hi there\nUser: more", ("\nUser:",)) == "Hi there"
    assert _showable("Hi there\nUx", ("\nUser:",)) == "Hi there\nUx"
