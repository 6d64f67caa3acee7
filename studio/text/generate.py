"""Local generation with transformers: streamed, stoppable, seeded, with per-token probabilities.

``model.generate`` runs in a worker thread and feeds a ``TextIteratorStreamer``; the caller
iterates over ``GenerationUpdate``s. A ``threading.Event`` checked by a stopping criterion
ends generation at the next token when the user presses Stop (or abandons the stream).
"""

from __future__ import annotations

import queue
import random
import threading
import time
from dataclasses import replace
from typing import Any, Iterator

from studio.errors import BadInput
from studio.text import chat
from studio.text.filtering import sampling_warpers
from studio.text.results import GenerationRequest, GenerationResult, GenerationUpdate, TokenInfo
from studio.text.sampling import generate_kwargs, validate

TOP_ALTERNATIVES = 5
STREAM_POLL_SECONDS = 0.05
# After each update, let the generation thread run undisturbed this long: waking the consumer
# for every token costs the generating thread the GIL (a UI cannot show 100 updates/s anyway).
STREAM_BATCH_SECONDS = 0.03
MAX_SEED = 2**31 - 1


def resolve_seed(seed: Any) -> int:
    """A given seed as an int; None or a negative number draws a fresh one (reported back)."""
    if seed is None or seed == "":
        return random.randrange(MAX_SEED)
    try:
        value = int(float(seed))
    except (TypeError, ValueError):
        raise BadInput(f"Seed must be a whole number (or -1 for a random one), not {seed!r}.") from None
    if value < 0:
        return random.randrange(MAX_SEED)
    if value > MAX_SEED:
        raise BadInput(f"Seed must be at most {MAX_SEED}.")
    return value


def checked_request(request: GenerationRequest) -> GenerationRequest:
    """Validate everything a student can get wrong before a model is touched."""
    mode = chat.check_mode(request.mode)
    prompt = chat.check_prompt(request.prompt)
    if mode == "chat" and request.system_prompt and len(request.system_prompt) > chat.MAX_PROMPT_CHARS:
        chat.check_prompt(request.system_prompt, "system prompt")
    return replace(request, mode=mode, prompt=prompt, settings=validate(request.settings))


def _torch_parts():
    import torch
    # Submodule imports: thread-safe, unlike resolving transformers' lazy top-level names.
    from transformers.generation.logits_process import LogitsProcessor
    from transformers.generation.stopping_criteria import StoppingCriteria

    class CancelCriteria(StoppingCriteria):
        """Stop at the next token once ``event`` is set."""

        def __init__(self, event: threading.Event):
            self.event = event
            self.answers: dict[tuple, Any] = {}  # made once: this runs after every token

        def __call__(self, input_ids, scores, **kwargs):
            key = (input_ids.shape[0], input_ids.device, self.event.is_set())
            if key not in self.answers:
                self.answers[key] = torch.full(key[:1], key[2], dtype=torch.bool, device=key[1])
            return self.answers[key]

    class SeededSampler(LogitsProcessor):
        """Rolls the die with this request's own generator, then leaves only the drawn token
        for generate's greedy pick. torch's global generator is shared by every request in
        the process, so with --concurrency above 1 seeding it would not make a reply repeatable."""

        def __init__(self, generator):
            self.generator = generator

        def __call__(self, input_ids, scores):
            probs = torch.softmax(scores.float(), dim=-1)
            drawn = torch.multinomial(probs, 1, generator=self.generator)
            only_drawn = torch.full_like(scores, -float("inf"))
            return only_drawn.scatter_(1, drawn, 0.0)

    class ChoiceRecorder(LogitsProcessor):
        """Placed after the sampling warpers: keeps, per step, the best candidates and (one step
        later, once it is in ``input_ids``) the probability of the token actually chosen.
        Everything stays on the device until the end, so no per-token synchronisation."""

        def __init__(self, top_n: int = TOP_ALTERNATIVES):
            self.top_n = top_n
            self.last_probs = None
            self.chosen: list[Any] = []
            self.top_values: list[Any] = []
            self.top_ids: list[Any] = []

        def __call__(self, input_ids, scores):
            if self.last_probs is not None:
                self.chosen.append(self.last_probs[0, input_ids[0, -1]])
            probs = torch.softmax(scores.float(), dim=-1)
            top = probs[0].topk(min(self.top_n, probs.shape[-1]))
            self.top_values.append(top.values)
            self.top_ids.append(top.indices)
            self.last_probs = probs
            return scores

        def finish(self, last_token_id: int) -> tuple[list[float], list[list[float]], list[list[int]]]:
            if self.last_probs is not None:
                self.chosen.append(self.last_probs[0, last_token_id])
                self.last_probs = None
            if not self.chosen:
                return [], [], []
            return (
                torch.stack(self.chosen).tolist(),
                torch.stack(self.top_values).tolist(),
                torch.stack(self.top_ids).tolist(),
            )

    return torch, CancelCriteria, ChoiceRecorder, SeededSampler


def _context_limit(model: Any) -> int | None:
    config = model.config
    for name in ("max_position_embeddings", "n_positions"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None  # e.g. BLOOM (ALiBi): no fixed limit


def _fit_context(ids: list[int], limit: int | None, max_new_tokens: int) -> tuple[list[int], int, list[str]]:
    """Make prompt + reply fit the model's context: keep the prompt's most recent tokens (at
    least half the context), then shorten the reply if it still does not fit."""
    if limit is None or len(ids) + max_new_tokens <= limit:
        return ids, max_new_tokens, []
    notes = []
    room_for_prompt = max(limit - max_new_tokens, limit // 2)
    if len(ids) > room_for_prompt:
        notes.append(
            f"The prompt was {len(ids)} tokens; only its last {room_for_prompt} were kept so that it "
            f"fits the model's {limit}-token context."
        )
        ids = ids[-room_for_prompt:]
    if len(ids) + max_new_tokens > limit:
        notes.append(f"Max new tokens was lowered to {limit - len(ids)}: the model reads at most {limit} tokens.")
        max_new_tokens = limit - len(ids)
    return ids, max_new_tokens, notes


def _cut_at_stop_string(text: str, stops: tuple[str, ...]) -> tuple[str, bool]:
    hits = [text.find(s) for s in stops if s in text]
    if not hits:
        return text, False
    return text[: min(hits)], True


def _batched_chunks(streamer: Any | None, thread: threading.Thread) -> Iterator[str]:
    """Text from a TextIteratorStreamer: the first piece as soon as it exists, then whatever
    has piled up every STREAM_BATCH_SECONDS, until the stream ends or the worker dies.

    Beam search has no stream: empty heartbeats keep the generator resumable, so a Stop or a
    closed tab can still end it."""
    while streamer is None and thread.is_alive():
        thread.join(STREAM_POLL_SECONDS)
        yield ""
    while streamer is not None:
        try:
            pieces = [streamer.text_queue.get(timeout=STREAM_POLL_SECONDS)]
        except queue.Empty:
            if not thread.is_alive():
                return
            continue
        while True:
            try:
                pieces.append(streamer.text_queue.get_nowait())
            except queue.Empty:
                break
        ended = streamer.stop_signal in pieces
        text = "".join(p for p in pieces if p is not streamer.stop_signal)
        if text:
            yield text
        if ended:
            return
        time.sleep(STREAM_BATCH_SECONDS)


def _token_texts(tokenizer: Any, token_ids: set[int]) -> dict[int, str]:
    """Each token decoded alone (one batched call), special tokens visible."""
    ordered = sorted(token_ids)
    return dict(zip(ordered, tokenizer.batch_decode([[i] for i in ordered], skip_special_tokens=False)))


def stream_local(
    studio_ctx: Any, request: GenerationRequest, cancel: threading.Event | None = None
) -> Iterator[GenerationUpdate]:
    """Generate with a local model from the shared cache, yielding the reply as it grows."""
    request = checked_request(request)
    settings = request.settings
    cancel = cancel or threading.Event()
    spec = studio_ctx.spec("text", request.model_id)
    torch, CancelCriteria, ChoiceRecorder, SeededSampler = _torch_parts()
    from transformers.generation.logits_process import LogitsProcessorList
    from transformers.generation.stopping_criteria import StoppingCriteriaList
    from transformers.generation.streamers import TextIteratorStreamer

    with studio_ctx.cache.use(spec) as text_model:
        model, tokenizer = text_model.model, text_model.tokenizer
        rendered = chat.render_prompt(tokenizer, request.mode, request.prompt, request.history, request.system_prompt)
        notes = list(rendered.notes)
        ids, max_new_tokens, fit_notes = _fit_context(
            chat.encode(tokenizer, rendered), _context_limit(model), settings.max_new_tokens
        )
        settings = replace(settings, max_new_tokens=max_new_tokens)
        notes += fit_notes
        prompt_seen = chat.what_the_model_sees(tokenizer, ids)
        yield GenerationUpdate(text="", prompt_seen=prompt_seen)

        seed = resolve_seed(request.seed)
        beam = settings.decoding == "beam"
        recorder = None if beam else ChoiceRecorder()
        processors = sampling_warpers(settings) + ([recorder] if recorder else [])
        kwargs = generate_kwargs(settings)
        if settings.samples:  # the die is rolled by our sampler with this request's generator
            generator = torch.Generator(device=model.device).manual_seed(seed)
            processors.append(SeededSampler(generator))
            kwargs.update(do_sample=False, temperature=None, top_k=None, top_p=None, min_p=None, typical_p=None)
        processors = LogitsProcessorList(processors)
        if settings.stop_strings:
            kwargs["tokenizer"] = tokenizer
        # Beam search keeps several candidates, so there is no single stream to show.
        streamer = None if beam else TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        input_ids = torch.tensor([ids], device=model.device)
        outcome: dict[str, Any] = {}

        def work() -> None:
            # The thread pins the model itself: if the consumer goes away (Stop, closed tab),
            # the model stays pinned until generate() has really returned.
            try:
                with studio_ctx.cache.use(spec):
                    with torch.inference_mode():
                        # Not retried on CUDA OOM: half the reply is already streamed.
                        outcome["ids"] = model.generate(
                            input_ids,
                            attention_mask=torch.ones_like(input_ids),
                            logits_processor=processors,
                            stopping_criteria=StoppingCriteriaList([CancelCriteria(cancel)]),
                            streamer=streamer,
                            pad_token_id=tokenizer.pad_token_id,
                            **kwargs,
                        )
            except BaseException as exc:  # re-raised in the caller's thread
                outcome["error"] = studio_ctx.cache.explain_oom(exc)
                if streamer is not None:
                    streamer.end()

        started = time.perf_counter()
        first_token_at = None
        thread = threading.Thread(target=work, name="studio-generate", daemon=True)
        thread.start()
        text = ""
        try:
            for chunk in _batched_chunks(streamer, thread):
                if chunk:
                    first_token_at = first_token_at or time.perf_counter()
                text += chunk
                yield GenerationUpdate(text=_cut_at_stop_string(text, settings.stop_strings)[0], prompt_seen=prompt_seen)
            thread.join()
        finally:
            # The consumer went away (Stop, closed tab): end the work too, without waiting here,
            # since Gradio closes generators on its event loop.
            if thread.is_alive():
                cancel.set()
        seconds = time.perf_counter() - started
        if "error" in outcome:
            raise outcome["error"]

        new_ids = outcome["ids"][0, len(ids):].tolist()
        text, hit_stop = _cut_at_stop_string(
            tokenizer.decode(new_ids, skip_special_tokens=True), settings.stop_strings
        )
        eos_ids = model.generation_config.eos_token_id
        eos_ids = set(eos_ids if isinstance(eos_ids, list) else [eos_ids])
        if cancel.is_set():
            stopped_by = "stopped by you"
        elif hit_stop:
            stopped_by = "stop string"
        elif new_ids and new_ids[-1] in eos_ids:
            stopped_by = "end of text"
        else:
            stopped_by = "length"
        tokens = _token_details(tokenizer, model, ids, new_ids, recorder, torch)
        result = GenerationResult(
            text=text,
            prompt_seen=prompt_seen,
            prompt_tokens=len(ids),
            generated_tokens=len(new_ids),
            seconds=seconds,
            tokens_per_second=len(new_ids) / seconds if seconds > 0 else 0.0,
            time_to_first_token=(first_token_at - started) if first_token_at else None,
            seed=seed if settings.samples else None,
            stopped_by=stopped_by,
            backend="local",
            model=spec.source if not spec.is_tiny else f"{request.model_id or 'default'} ({spec.source})",
            tokens=tokens,
            notes=notes,
        )
        yield GenerationUpdate(text=text, prompt_seen=prompt_seen, result=result)


def _token_details(tokenizer, model, prompt_ids, new_ids, recorder, torch) -> list[TokenInfo]:
    if not new_ids:
        return []
    if recorder is not None:
        chosen, top_values, top_ids = recorder.finish(new_ids[-1])
    else:  # beam search: the model's own probability of each token, from one forward pass
        with torch.inference_mode():
            full = torch.tensor([prompt_ids + new_ids], device=model.device)
            logits = model(full).logits[0, len(prompt_ids) - 1 : -1].float()
            probs = torch.softmax(logits, dim=-1)
            chosen = probs.gather(-1, torch.tensor(new_ids, device=model.device)[:, None])[:, 0].tolist()
            top = probs.topk(min(TOP_ALTERNATIVES, probs.shape[-1]), dim=-1)
            top_values, top_ids = top.values.tolist(), top.indices.tolist()
    texts = _token_texts(tokenizer, set(new_ids).union(*map(set, top_ids)))
    return [
        TokenInfo(
            text=texts[token_id],
            probability=p,
            alternatives=[(texts[i], v) for i, v in zip(ids_row, values_row) if v > 0],
        )
        for token_id, p, values_row, ids_row in zip(new_ids, chosen, top_values, top_ids)
    ]


def generate_text(studio_ctx: Any, request: GenerationRequest, cancel: threading.Event | None = None) -> GenerationResult:
    """The whole reply at once (scripts, tests, the benchmark)."""
    result = None
    for update in stream_local(studio_ctx, request, cancel):
        result = update.result or result
    assert result is not None
    return result
