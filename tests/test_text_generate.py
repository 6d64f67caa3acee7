"""Local generation on the tiny twins: chat templates, streaming and Stop, stop strings,
per-token probabilities, the explorer, and bad input."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from studio.errors import BadInput, ModelUnavailable, OutOfMemory
from studio.text import chat
from studio.text.explorer import next_token_table, sample_next_token
from studio.text.generate import generate_text, stream_local
from studio.text.results import GenerationRequest
from studio.text.sampling import SamplingSettings

GREEDY = SamplingSettings(decoding="greedy", repetition_penalty=1.0, max_new_tokens=16)
MESSAGES_HISTORY = [{"role": "user", "content": "你好"}, {"role": "assistant", "content": "Hi! 你好。"}]


def _tokenizer(ctx, model_id=None):
    with ctx.cache.use(ctx.spec("text", model_id)) as text_model:
        return text_model.tokenizer


def test_chat_rendering_matches_apply_chat_template(studio_ctx):
    tokenizer = _tokenizer(studio_ctx)
    messages = chat.build_messages(MESSAGES_HISTORY, "炎龍老師很幽默嗎？", "You are a helpful teacher.")
    expected = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    rendered = chat.render_chat(tokenizer, messages)
    assert rendered.text == expected and rendered.notes == []
    assert "<|im_start|>system\nYou are a helpful teacher.<|im_end|>" in expected  # the twin speaks ChatML
    expected_ids = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=True, return_dict=False)
    assert chat.encode(tokenizer, rendered) == list(expected_ids)

    request = GenerationRequest("炎龍老師很幽默嗎？", "chat", system_prompt="You are a helpful teacher.",
                                history=MESSAGES_HISTORY, settings=GREEDY)
    result = generate_text(studio_ctx, request)
    assert result.prompt_seen == expected  # "what the model sees", special tokens visible
    assert result.prompt_tokens == len(expected_ids)


def test_model_without_chat_template_falls_back_to_a_transcript(studio_ctx):
    request = GenerationRequest("Hello there", "chat", model_id="openai-community/gpt2", settings=GREEDY)
    result = generate_text(studio_ctx, request)
    assert result.prompt_seen.endswith("User: Hello there\nAssistant:")
    assert any("no chat template" in note for note in result.notes)
    assert result.generated_tokens > 0


def test_streaming_yields_growing_text_then_a_result(studio_ctx):
    settings = SamplingSettings(decoding="sample", temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=300)
    updates = list(stream_local(studio_ctx, GenerationRequest("Once upon a time", "completion", settings=settings, seed=3)))
    texts = [u.text for u in updates if u.result is None and u.text]
    assert len(texts) >= 3 and all(b.startswith(a) for a, b in zip(texts, texts[1:]))
    result = updates[-1].result
    assert result is not None and result.text.startswith(texts[-1][:5])
    assert result.tokens_per_second > 0 and result.time_to_first_token is not None
    assert result.generated_tokens == len(result.tokens) <= 300


def test_stop_really_stops_within_a_few_tokens(studio_ctx):
    cancel = threading.Event()
    settings = SamplingSettings(decoding="greedy", repetition_penalty=1.0, max_new_tokens=2000)
    request = GenerationRequest("Once upon a time", "completion", settings=settings)
    result, streamed_at_stop = None, None
    for update in stream_local(studio_ctx, request, cancel):
        if update.text and not cancel.is_set():
            streamed_at_stop = update.text
            cancel.set()
        result = update.result or result
    assert result is not None and result.stopped_by == "stopped by you"
    assert result.generated_tokens < 20, result.generated_tokens  # of 2000 asked for
    assert result.text.startswith(streamed_at_stop)


def _text_entry(ctx) -> dict:
    source = ctx.spec("text").source
    return next(m for m in ctx.cache.stats()["models"] if m["model"] == source and m["kind"] == "causal_lm")


def _slow_forward(monkeypatch, ctx, seconds: float = 0.3, fail_after: int | None = None):
    """Make each forward pass of the text twin slow (or fail with CUDA OOM after some)."""
    model = ctx.cache.get(ctx.spec("text")).model
    original = model.forward
    calls = []

    def forward(*args, **kwargs):
        calls.append(1)
        if fail_after is not None and len(calls) > fail_after:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        time.sleep(seconds)
        return original(*args, **kwargs)

    monkeypatch.setattr(model, "forward", forward)
    return calls


def _wait_for_generation_threads(timeout: float = 15) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [t for t in threading.enumerate() if t.name == "studio-generate"]
        if not alive:
            return []
        time.sleep(0.05)
    return alive


@pytest.mark.parametrize("decoding", ["greedy", "beam"])
def test_abandoning_the_stream_returns_at_once_and_ends_the_work(studio_ctx, monkeypatch, decoding):
    _slow_forward(monkeypatch, studio_ctx, seconds=0.3)
    settings = SamplingSettings(decoding=decoding, num_beams=2, repetition_penalty=1.0, max_new_tokens=2000)
    stream = stream_local(studio_ctx, GenerationRequest("Once upon a time", "completion", settings=settings))
    next(stream)  # the prompt is rendered and the model is working
    time.sleep(0.5)
    next(stream)  # a streamed piece, or a heartbeat while beam search runs
    started = time.perf_counter()
    stream.close()  # what Gradio does on its event loop when the event is cancelled
    assert time.perf_counter() - started < 0.25  # never waits for a forward pass
    assert not _wait_for_generation_threads()
    assert _text_entry(studio_ctx)["in_use"] == 0  # and the model is unpinned afterwards


def test_cuda_oom_mid_stream_is_a_clear_error_not_a_retry(studio_ctx, monkeypatch):
    calls = _slow_forward(monkeypatch, studio_ctx, seconds=0.0, fail_after=4)
    settings = SamplingSettings(decoding="greedy", repetition_penalty=1.0, max_new_tokens=50)
    with pytest.raises(OutOfMemory, match="ran out of memory during this request"):
        generate_text(studio_ctx, GenerationRequest("Once upon a time", "completion", settings=settings))
    assert len(calls) == 5  # not run again with the half-used streamer
    assert _text_entry(studio_ctx)["in_use"] == 0


def test_stop_string_ends_the_reply_before_it(studio_ctx):
    free = generate_text(studio_ctx, GenerationRequest("Once upon a time", "completion", settings=GREEDY))
    stop = free.text[6:8]
    assert stop.strip()
    request = GenerationRequest("Once upon a time", "completion", settings=SamplingSettings(
        decoding="greedy", repetition_penalty=1.0, max_new_tokens=16, stop_strings=(stop,)))
    stopped = generate_text(studio_ctx, request)
    assert stop not in stopped.text and free.text.startswith(stopped.text)
    assert stopped.stopped_by == "stop string" and stopped.generated_tokens < 16


def test_per_token_probabilities_are_those_of_the_chosen_token(studio_ctx):
    greedy = generate_text(studio_ctx, GenerationRequest("The cat", "completion", settings=GREEDY))
    for token in greedy.tokens:  # greedy picks the best candidate
        assert token.probability == pytest.approx(token.alternatives[0][1])
        assert token.alternatives[0][0] == token.text
    topk = SamplingSettings(decoding="sample", temperature=1.0, top_k=3, top_p=1.0, repetition_penalty=1.0, max_new_tokens=16)
    sampled = generate_text(studio_ctx, GenerationRequest("The cat", "completion", settings=topk, seed=9))
    for token in sampled.tokens:  # after top-k=3 only three candidates have probability left
        assert len(token.alternatives) == 3
        assert sum(p for _, p in token.alternatives) == pytest.approx(1.0, abs=1e-4)
        same = [p for text, p in token.alternatives if text == token.text]  # the chosen one is among them
        assert same and token.probability == pytest.approx(same[0], abs=1e-6)


def test_beam_search_runs(studio_ctx):
    settings = SamplingSettings(decoding="beam", num_beams=3, max_new_tokens=8, repetition_penalty=1.0)
    result = generate_text(studio_ctx, GenerationRequest("The cat", "completion", model_id="bigscience/bloom-560m", settings=settings))
    assert 0 < result.generated_tokens <= 8 and len(result.tokens) == result.generated_tokens
    assert all(0 < t.probability <= 1 for t in result.tokens)


def test_explorer_table_and_sampling_build_a_sentence(studio_ctx):
    settings = SamplingSettings(decoding="sample", temperature=0.8, top_k=5, top_p=1.0)
    table = next_token_table(studio_ctx, "從前從前", settings, top_n=10)
    assert table.kept_count == 5 and len(table.candidates) == 10
    assert [c.kept for c in table.candidates] == [True] * 5 + [False] * 5
    assert sum(c.filtered_probability for c in table.candidates) == pytest.approx(1.0, abs=1e-5)
    assert [c.logit for c in table.candidates] == sorted((c.logit for c in table.candidates), reverse=True)
    kept_tokens = {c.token for c in table.candidates if c.kept}
    text, token, seed = sample_next_token(studio_ctx, "從前從前", settings, seed=11)
    assert text.startswith("從前從前") and seed == 11
    assert token in kept_tokens or "\ufffd" not in token  # byte pieces are drawn on to a whole character
    assert sample_next_token(studio_ctx, "從前從前", settings, seed=11)[0] == text


def test_sampling_never_leaves_half_a_character_in_the_prompt(studio_ctx):
    """Byte-level tokens can be one byte of a Chinese character: drawn on until it is whole."""
    settings = SamplingSettings(decoding="sample", temperature=1.5, top_k=0, top_p=1.0)
    drawn = [sample_next_token(studio_ctx, "從前從前", settings, seed=seed) for seed in range(40)]
    assert not any("\ufffd" in text for text, _, _ in drawn)
    assert any(ord(ch) > 0x2E80 for _, token, _ in drawn for ch in token)  # some drew a CJK character, whole


@pytest.mark.parametrize(
    "request_args, error, words",
    [
        (dict(prompt=""), BadInput, "empty"),
        (dict(prompt="   \n"), BadInput, "empty"),
        (dict(prompt="x" * 100_001), BadInput, "100,000"),
        (dict(prompt="hi", mode="poem"), BadInput, "Mode"),
        (dict(prompt="hi", model_id="no-such/model"), ModelUnavailable, "no-such/model"),
        (dict(prompt="hi", settings=SamplingSettings(max_new_tokens=0)), BadInput, "Max new tokens"),
        (dict(prompt="hi", settings=SamplingSettings(top_p=1.5)), BadInput, "Top-p"),
        (dict(prompt="hi", seed="abc"), BadInput, "Seed"),
    ],
)
def test_bad_input_is_a_clear_error(studio_ctx, request_args, error, words):
    with pytest.raises(error, match=words):
        generate_text(studio_ctx, GenerationRequest(**{"mode": "completion", **request_args}))


def test_prompt_longer_than_the_context_keeps_its_end(studio_ctx):
    long_prompt = "從前從前，有一個小朋友。" * 400  # ~ thousands of tokens, gpt2 twin reads 1024
    settings = SamplingSettings(decoding="greedy", max_new_tokens=8)
    result = generate_text(studio_ctx, GenerationRequest(long_prompt, "completion", "openai-community/gpt2", settings=settings))
    assert result.prompt_tokens == 1024 - 8
    assert any("only its last" in note for note in result.notes)
    already_stopped = threading.Event()
    already_stopped.set()  # only the planning matters here, not 1000 tokens of noise
    capped = generate_text(studio_ctx, GenerationRequest("Hi", "completion", "openai-community/gpt2", settings=SamplingSettings(
        decoding="greedy", repetition_penalty=1.0, max_new_tokens=4096)), already_stopped)
    assert capped.prompt_tokens + capped.generated_tokens <= 1024
    assert any("lowered" in note for note in capped.notes)


def test_seeds_hold_when_requests_sample_at_the_same_time(studio_ctx):
    """Each request rolls its own die: concurrency must not change a seeded reply."""
    settings = SamplingSettings(decoding="sample", temperature=1.0, top_k=0, top_p=1.0,
                                repetition_penalty=1.0, max_new_tokens=40)
    requests = [GenerationRequest("Once upon a time", "completion", settings=settings, seed=s) for s in (5, 6, 7, 8)]
    alone = [generate_text(studio_ctx, r).text for r in requests]
    together: dict[int, str] = {}
    threads = [
        threading.Thread(target=lambda i=i, r=r: together.__setitem__(i, generate_text(studio_ctx, r).text))
        for i, r in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [together[i] for i in range(len(requests))] == alone
    assert len(set(alone)) == len(alone)
