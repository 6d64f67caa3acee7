"""Local generation with transformers: streamed, stoppable, seeded, with per-token probabilities.

Greedy decoding and sampling run on the caller's own thread in short runs of
``model.generate`` (``studio.text.runs``), each followed by an update with the reply so far.
Beam search keeps several candidates, so there is no single reply to stream: it runs in a
worker thread (``studio.text.worker``) while the stream sends empty heartbeats. Either way a
``threading.Event`` checked after every token ends generation at the next token when the
user presses Stop, and closing the stream ends it too.
"""

from __future__ import annotations

import random
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Generator, Iterator

from studio.errors import BadInput
from studio.text import adapters, chat
from studio.text.adapters import TextAdapter
from studio.text.context_window import context_limit, fit_context
from studio.text.filtering import sampling_warpers
from studio.text.limits import MAX_MODEL_ID_CHARS, MAX_NUMBER_CHARS, bounded_text, shown
from studio.text.results import GenerationRequest, GenerationResult, GenerationUpdate, TokenInfo
from studio.text.sampling import SamplingSettings, generate_kwargs, validate
from studio.replicated import model_key, replicated

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase
    from transformers.generation.stopping_criteria import StopStringCriteria

    from studio.context import StudioContext
    from studio.models.specs import ModelSpec
    from studio.text.loading import TextModel
    from studio.text.processors import ChoiceRecorder

TOP_ALTERNATIVES = 5
HEARTBEAT_SECONDS = 0.05  # beam search: how often the stream checks in while the worker runs
MAX_SEED = 2**31 - 1
UNFINISHED_CHARACTER = "\ufffd"  # what a character still missing some of its bytes decodes to


def resolve_seed(seed: Any) -> int:
    """A given seed as an int; None or a negative number draws a fresh one (reported back)."""
    if seed is None or seed == "":
        return random.randrange(MAX_SEED)
    try:
        if isinstance(seed, str) and len(seed) > MAX_NUMBER_CHARS:
            raise ValueError
        value = int(float(seed))
    except (TypeError, ValueError, OverflowError):  # OverflowError: "1e999" is infinite
        raise BadInput(f"Seed must be a whole number (or -1 for a random one), not {shown(seed)}.") from None
    if value < 0:
        return random.randrange(MAX_SEED)
    if value > MAX_SEED:
        raise BadInput(f"Seed must be at most {MAX_SEED}.")
    return value


def check_model_id(model_id: Any) -> str | None:
    """None (the default model) or a catalog id, Hub id or folder of a sensible length."""
    if model_id is None or model_id == "":
        return None
    return bounded_text(model_id, "model id", MAX_MODEL_ID_CHARS)


def checked_request(request: GenerationRequest) -> GenerationRequest:
    """Validate everything a student can get wrong before a model is touched."""
    if request.adapter is not None and not isinstance(request.adapter, TextAdapter):
        raise BadInput("An adapter is picked from your trained adapters (studio.text.adapters.resolve).")
    return replace(
        request,
        mode=chat.check_mode(request.mode),
        prompt=chat.check_prompt(request.prompt),
        system_prompt=chat.check_system_prompt(request.system_prompt),
        model_id=check_model_id(request.model_id),
        settings=validate(request.settings),
    )


def _cut_at_stop_string(text: str, stops: tuple[str, ...]) -> tuple[str, bool]:
    hits = [text.find(s) for s in stops if s in text]
    if not hits:
        return text, False
    return text[: min(hits)], True


def _showable(text: str, stops: tuple[str, ...]) -> str:
    """The part of a growing reply that can be shown already: not a character whose bytes are
    still coming, not a stop string, nor an ending that may yet become one."""
    text, _ = _cut_at_stop_string(text.rstrip(UNFINISHED_CHARACTER), stops)
    held = max((k for s in stops for k in range(1, len(s)) if text.endswith(s[:k])), default=0)
    return text[: len(text) - held]


def _token_texts(tokenizer: PreTrainedTokenizerBase, token_ids: set[int]) -> dict[int, str]:
    """Each token decoded alone (one batched call), special tokens visible."""
    ordered = sorted(token_ids)
    return dict(zip(ordered, tokenizer.batch_decode([[i] for i in ordered], skip_special_tokens=False)))


def _eos_ids(model: PreTrainedModel) -> set[int]:
    eos = model.generation_config.eos_token_id
    if eos is None:
        return set()
    return set(eos if isinstance(eos, list) else [eos])


@dataclass
class _Plan:
    """What ``model.generate`` gets, built once per request."""

    kwargs: dict[str, Any]  # logits processors, stopping criteria, decoding switches
    recorder: ChoiceRecorder | None  # per-token probabilities (None for beam search)
    stop_criteria: StopStringCriteria | None  # the stop strings' criterion, also asked between runs


def _plan(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, settings: SamplingSettings, seed: int,
          cancel: threading.Event) -> _Plan:
    import torch
    from transformers.generation.logits_process import LogitsProcessorList
    from transformers.generation.stopping_criteria import StoppingCriteriaList, StopStringCriteria

    from studio.text.processors import CancelCriteria, ChoiceRecorder, SeededSampler

    recorder = None if settings.decoding == "beam" else ChoiceRecorder(TOP_ALTERNATIVES)
    processors = sampling_warpers(settings) + ([recorder] if recorder else [])
    kwargs = generate_kwargs(settings)
    if settings.samples:  # the die is rolled by our sampler with this request's generator
        generator = torch.Generator(device=model.device).manual_seed(seed)
        processors.append(SeededSampler(generator, recorder))
        kwargs.update(do_sample=False, temperature=None, top_k=None, top_p=None, min_p=None, typical_p=None)
    criteria = [CancelCriteria(cancel)]
    # Built once here rather than by generate from `stop_strings`: it reads the whole vocabulary.
    stop_criteria = StopStringCriteria(tokenizer, list(settings.stop_strings)) if settings.stop_strings else None
    if stop_criteria is not None:
        criteria.append(stop_criteria)
    kwargs.update(
        logits_processor=LogitsProcessorList(processors),
        stopping_criteria=StoppingCriteriaList(criteria),
        pad_token_id=tokenizer.pad_token_id,
    )
    return _Plan(kwargs, recorder, stop_criteria)


def _raise_explained(studio: StudioContext, exc: BaseException) -> None:
    """Re-raise a generate error; a CUDA OOM becomes a clear error (not retried: half the
    reply has been shown already)."""
    explained = studio.cache.explain_oom(exc)
    if explained is exc:
        raise exc
    raise explained from exc


def _stream_runs(
    studio: StudioContext, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, input_ids: torch.Tensor,
    plan: _Plan, settings: SamplingSettings, cancel: threading.Event, prompt_seen: str,
) -> Generator[GenerationUpdate, None, tuple[torch.Tensor, float | None]]:
    """Greedy or sampling: an update after every run; returns the final sequence and when
    the first text was ready."""
    from studio.text.runs import generate_in_runs

    eos_ids, prompt_length, stop = _eos_ids(model), input_ids.shape[1], plan.stop_criteria
    kwargs = {k: v for k, v in plan.kwargs.items() if k != "max_new_tokens"}

    def finished(sequence: torch.Tensor) -> bool:
        return (
            cancel.is_set()
            or int(sequence[0, -1]) in eos_ids
            or (stop is not None and bool(stop(sequence, None)[0]))
        )

    def run(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except Exception as exc:
            _raise_explained(studio, exc)

    shown_text, sequence, first_text_at = "", input_ids, None
    for sequence in generate_in_runs(model, input_ids, settings.max_new_tokens, finished, run, **kwargs):
        text = _showable(tokenizer.decode(sequence[0, prompt_length:].tolist(), skip_special_tokens=True),
                         settings.stop_strings)
        if text != shown_text:
            shown_text, first_text_at = text, first_text_at or time.perf_counter()
            yield GenerationUpdate(text=text, prompt_seen=prompt_seen)
    return sequence, first_text_at


def _beam_search(
    studio: StudioContext, spec: ModelSpec, text_model: TextModel, input_ids: torch.Tensor, plan: _Plan,
    cancel: threading.Event, prompt_seen: str,
) -> Generator[GenerationUpdate, None, Any]:
    """Beam search in a worker thread; heartbeats keep the stream resumable, so a Stop or a
    closed tab can end it. Returns the final sequence (and None: no text is streamed)."""
    import torch

    from studio.text.worker import GenerationWorker

    model = text_model.model
    # The worker gets pins of its own, taken here while this stream holds the model and its
    # adapter: if the stream goes away, both stay in place until generate() has really returned.
    pins = ExitStack()
    pins.enter_context(studio.cache.use(spec))
    pins.callback(text_model.adapter_gate.hand_on())

    def work(_cancel: threading.Event) -> Any:
        with pins, torch.inference_mode():
            return model.generate(input_ids, attention_mask=torch.ones_like(input_ids), **plan.kwargs)

    try:
        worker = GenerationWorker(work, cancel).start()
    except BaseException:
        pins.close()
        raise
    try:
        while not worker.join(HEARTBEAT_SECONDS):
            yield GenerationUpdate(text="", prompt_seen=prompt_seen)
    finally:
        if worker.is_alive():  # the stream was closed: end the work at its next step
            worker.stop()
    if worker.error is not None:
        _raise_explained(studio, worker.error)
    return worker.result, None


@replicated("stream_text", lambda arguments: model_key("text", arguments["request"].model_id),
            cancel="cancel", streams=True)
def stream_local(
    studio: StudioContext, request: GenerationRequest, cancel: threading.Event | None = None
) -> Iterator[GenerationUpdate]:
    """Generate with a local model from the shared cache, yielding the reply as it grows."""
    request = checked_request(request)
    settings = request.settings
    cancel = cancel or threading.Event()
    spec = studio.spec("text", request.model_id)
    import torch

    with adapters.using(studio, spec, request.adapter) as text_model:
        model, tokenizer = text_model.model, text_model.tokenizer
        rendered = chat.render_prompt(tokenizer, request.mode, request.prompt, request.history, request.system_prompt)
        notes = list(rendered.notes)
        ids, max_new_tokens, fit_notes = fit_context(
            chat.encode(tokenizer, rendered), context_limit(model), settings.max_new_tokens
        )
        settings = replace(settings, max_new_tokens=max_new_tokens)
        notes += fit_notes
        prompt_seen = chat.what_the_model_sees(tokenizer, ids)
        yield GenerationUpdate(text="", prompt_seen=prompt_seen)

        seed = resolve_seed(request.seed)
        plan = _plan(model, tokenizer, settings, seed, cancel)
        input_ids = torch.tensor([ids], device=model.device)
        started = time.perf_counter()
        if settings.decoding == "beam":
            updates = _beam_search(studio, spec, text_model, input_ids, plan, cancel, prompt_seen)
        else:
            updates = _stream_runs(studio, model, tokenizer, input_ids, plan, settings, cancel, prompt_seen)
        sequence, first_token_at = yield from updates
        seconds = time.perf_counter() - started

        new_ids = sequence[0, len(ids):].tolist()
        text, hit_stop = _cut_at_stop_string(
            tokenizer.decode(new_ids, skip_special_tokens=True), settings.stop_strings
        )
        if cancel.is_set():
            stopped_by = "stopped by you"
        elif hit_stop:
            stopped_by = "stop string"
        elif new_ids and new_ids[-1] in _eos_ids(model):
            stopped_by = "end of text"
        else:
            stopped_by = "length"
        tokens = _token_details(tokenizer, model, ids, new_ids, plan.recorder, torch)
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
            adapter=request.adapter.label if request.adapter is not None else "",
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


def generate_text(studio: StudioContext, request: GenerationRequest, cancel: threading.Event | None = None) -> GenerationResult:
    """The whole reply at once (scripts, tests, the benchmark)."""
    result = None
    for update in stream_local(studio, request, cancel):
        result = update.result or result
    assert result is not None
    return result
