"""Diffusion text with a model from the shared cache: the step records stream as they happen.

The prompt is written with the model's chat template when it has one (a question/answer form
for the BERT-chat models), else given as plain text that the answer continues; ``length``
[MASK]s follow it. Every step is one forward pass (``sampler.denoise``); after each, a plain
``DiffusionUpdate`` goes out with the answer so far. The Stop flag (a ``threading.Event``, or the
tabs' ``CancelFlag`` that crosses a ZeroGPU fork; a cluster follows either) is checked before
every pass, and closing the stream ends it too.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from studio.errors import BadInput
from studio.progress import CancelFlag
from studio.replicated import model_key, replicated
from studio.text import chat
from studio.text.diffusion.loading import require_mask_token
from studio.text.diffusion.request import (
    CATALOG_NAME,
    DiffusionRequest,
    DiffusionResult,
    DiffusionStep,
    DiffusionUpdate,
    check_request,
)
from studio.text.diffusion.sampler import denoise
from studio.text.diffusion.schedule import plan_blocks

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

    from studio.context import StudioContext

# Where an answer ends in text: the BERT-chat models close theirs with this tag, then pad.
END_MARKERS = ("[/Answer]",)
RAW_PROMPT_NOTE = (
    "This model has no chat template, so the prompt is read as plain text and the answer continues it."
)


@dataclass
class Layout:
    """The sequence around the answer: ``prefix`` + answer + ``suffix`` (token ids)."""

    prefix: list[int]
    suffix: list[int]
    notes: list[str]


def lay_out(tokenizer: PreTrainedTokenizerBase, prompt: str) -> Layout:
    """A chat model gets its template (the answer goes where the assistant's turn begins); a
    plain masked LM reads "[CLS] prompt [answer] [SEP]", the answer before its closing token."""
    if chat.has_chat_template(tokenizer):
        rendered = chat.render_chat(tokenizer, chat.build_messages(None, chat.check_prompt(prompt)))
        return Layout(chat.encode(tokenizer, rendered), [], [])
    ids = list(tokenizer(prompt, add_special_tokens=True)["input_ids"])
    closing = {tokenizer.sep_token_id, tokenizer.eos_token_id} - {None}
    cut = len(ids) - 1 if ids and ids[-1] in closing else len(ids)
    return Layout(ids[:cut], ids[cut:], [RAW_PROMPT_NOTE])


def check_fits(model_limit: int | None, layout: Layout, length: int) -> None:
    total = len(layout.prefix) + length + len(layout.suffix)
    if model_limit and total > model_limit:
        raise BadInput(
            f"The prompt ({len(layout.prefix)} tokens) and the answer ({length}) make {total} tokens, more than "
            f"this model reads at once ({model_limit}): shorten the prompt or the answer."
        )


class AnswerCanvas:
    """The answer's positions as token ids and their text (each token decoded alone, once)."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, length: int):
        self.tokenizer = tokenizer
        self.ids: list[int | None] = [None] * length
        self._texts: dict[int, str] = {}

    def fill(self, positions: list[int], token_ids: list[int]) -> None:
        new = sorted(set(token_ids) - self._texts.keys())
        if new:  # one batched call for the tokens not seen yet; an id past the vocabulary reads ""
            self._texts.update(zip(new, self.tokenizer.batch_decode([[i] for i in new], skip_special_tokens=False)))
        for position, token_id in zip(positions, token_ids):
            self.ids[position] = token_id

    def tokens(self) -> list[str | None]:
        return [None if i is None else self._texts[i] for i in self.ids]

    def text(self) -> str:
        """The answer as text: cut at its first end token (end of text, padding, [SEP]) and end
        marker, special tokens dropped; still-masked positions are left out."""
        ends = {self.tokenizer.eos_token_id, self.tokenizer.pad_token_id, self.tokenizer.sep_token_id} - {None}
        kept: list[int] = []
        for token_id in self.ids:
            if token_id in ends:
                break
            if token_id is not None:
                kept.append(token_id)
        text = self.tokenizer.decode(kept, skip_special_tokens=True)
        for marker in END_MARKERS:
            text = text.split(marker, 1)[0]
        return text.strip()


def _model_label(request: DiffusionRequest, source: str, tiny: bool) -> str:
    return f"{request.model_id or 'default'} ({source})" if tiny else source


@replicated(
    "diffuse_text", lambda arguments: model_key(CATALOG_NAME, arguments["request"].model_id),
    cancel="cancel", streams=True,
)
def stream_diffusion(
    studio: StudioContext, request: DiffusionRequest, cancel: threading.Event | CancelFlag | None = None
) -> Iterator[DiffusionUpdate]:
    """Run ``request`` on a masked LM from the shared cache. Yields step 0 (all masks) first,
    then one update per forward pass, then the last step again carrying the ``DiffusionResult``."""
    request = check_request(request)
    cancel = cancel or threading.Event()
    spec = studio.spec(CATALOG_NAME, request.model_id or None)
    import torch

    with studio.cache.use(spec) as masked_lm:
        model, tokenizer = masked_lm.model, masked_lm.tokenizer
        mask_id = require_mask_token(tokenizer, request.model_id or spec.source)
        layout = lay_out(tokenizer, request.prompt)
        check_fits(getattr(model.config, "max_position_embeddings", None), layout, request.length)
        prompt_seen = chat.what_the_model_sees(tokenizer, layout.prefix)
        canvas = AnswerCanvas(tokenizer, request.length)
        start = DiffusionStep(0, 0, canvas.tokens(), [], [], 0, 0.0)
        yield DiffusionUpdate(start, prompt_seen)

        sequence = torch.tensor([layout.prefix + [mask_id] * request.length + layout.suffix], device=model.device)
        generator = torch.Generator(device=model.device).manual_seed(request.seed)
        history: list[DiffusionStep] = []
        started = time.perf_counter()
        steps = denoise(
            lambda ids: studio.cache.run(lambda: model(input_ids=ids).logits),
            sequence, len(layout.prefix), mask_id,
            plan_blocks(request.length, request.block_length, request.steps),
            request.remasking, request.temperature, generator, cancel.is_set,
        )
        for number, choice in enumerate(steps, start=1):
            canvas.fill(choice.positions, choice.token_ids)
            step = DiffusionStep(
                number, choice.block, canvas.tokens(), choice.positions, choice.confidences,
                forward_passes=number, seconds=time.perf_counter() - started,
            )
            history.append(step)
            yield DiffusionUpdate(step, prompt_seen)

        result = DiffusionResult(
            text=canvas.text(),
            steps=[step.tokens for step in history],
            forward_passes=len(history),
            seconds=time.perf_counter() - started,
            seed=request.seed,
            model=_model_label(request, spec.source, spec.is_tiny),
            prompt_seen=prompt_seen,
            unmasked=[step.unmasked for step in history],
            confidences=[step.confidences for step in history],
            stopped_by="stopped by you" if cancel.is_set() and canvas.ids.count(None) else "finished",
            notes=layout.notes,
        )
        # The last record again, now with the result (a Stop before the first pass: the start).
        yield DiffusionUpdate(history[-1] if history else start, prompt_seen, result)


def diffuse_text(
    studio: StudioContext, request: DiffusionRequest, cancel: threading.Event | CancelFlag | None = None
) -> DiffusionResult:
    """The whole run at once (the API, scripts, tests)."""
    result = None
    for update in stream_diffusion(studio, request, cancel):
        result = update.result or result
    assert result is not None
    return result
