"""The next-token explorer: every candidate for the next token, before and after the filters,
and a die roll that appends one so a sentence can be built token by token."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from studio.errors import BadInput
from studio.text import adapters, chat
from studio.text.context_window import context_limit
from studio.text.filtering import filter_logits
from studio.text.adapters import TextAdapter
from studio.text.generate import check_model_id, resolve_seed
from studio.text.limits import shown
from studio.text.sampling import SamplingSettings, validate

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

    from studio.context import StudioContext
    from studio.text.loading import TextModel

MAX_CANDIDATES = 100


@dataclass
class Candidate:
    rank: int
    token: str
    token_id: int | None
    logit: float | None  # raw score; a remote endpoint gives log-probabilities instead
    probability: float  # softmax at temperature 1
    filtered_probability: float  # after temperature / top-k / top-p / min-p, renormalised
    kept: bool  # False: removed by the filters, never drawn

    def as_row(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class NextTokenTable:
    prompt_tokens: int
    candidates: list[Candidate]
    kept_count: int  # how many tokens of the whole vocabulary survive the filters
    vocabulary_size: int
    note: str = ""


def check_top_n(top_n: Any) -> int:
    try:
        if isinstance(top_n, str) and len(top_n) > 20:  # out of range anyway; int() of it is slow
            raise ValueError
        value = int(top_n)
    except (TypeError, ValueError, OverflowError):
        raise BadInput(f"Number of candidates must be a whole number, not {shown(top_n)}.") from None
    if not 1 <= value <= MAX_CANDIDATES:
        raise BadInput(f"Number of candidates must be between 1 and {MAX_CANDIDATES}, not {value}.")
    return value


def _next_token_logits(studio: StudioContext, text_model: TextModel, prompt: str) -> tuple[torch.Tensor, list[int], str]:
    """The scores for the token after ``prompt``, the ids read, and a note when the prompt
    was longer than the model's context (its end is kept)."""
    tokenizer, model = text_model.tokenizer, text_model.model
    ids = list(tokenizer(prompt, add_special_tokens=True)["input_ids"])
    if not ids:
        raise BadInput("The prompt turned into zero tokens; type some text.")
    limit, note = context_limit(model), ""
    if limit is not None and len(ids) > limit:
        note = f"The prompt was {len(ids)} tokens; the model read only its last {limit}."
        ids = ids[-limit:]
    return _logits_after(studio, model, ids), ids, note


def _logits_after(studio: StudioContext, model: PreTrainedModel, ids: list[int]) -> torch.Tensor:
    """The model's scores (float, on the CPU) for the token after ``ids``."""
    import torch

    with torch.inference_mode():
        logits = studio.cache.run(lambda: model(torch.tensor([ids], device=model.device)).logits[0, -1])
    return logits.float().cpu()


def table_from_distribution(tokenizer: PreTrainedTokenizerBase, logits: torch.Tensor, settings: SamplingSettings,
                            top_n: int, prompt_tokens: int) -> NextTokenTable:
    dist = filter_logits(logits, settings)
    order = logits.argsort(descending=True)[:top_n].tolist()
    candidates = [
        Candidate(
            rank=rank,
            token=tokenizer.decode([i], skip_special_tokens=False),
            token_id=i,
            logit=round(float(logits[i]), 4),
            probability=float(dist.raw_probs[i]),
            filtered_probability=float(dist.probs[i]),
            kept=bool(dist.kept[i]),
        )
        for rank, i in enumerate(order, start=1)
    ]
    return NextTokenTable(prompt_tokens, candidates, int(dist.kept.sum()), int(logits.shape[-1]))


def next_token_table(
    studio: StudioContext, prompt: str, settings: SamplingSettings, top_n: int = 20, model_id: str | None = None,
    adapter: TextAdapter | None = None,
) -> NextTokenTable:
    """The top ``top_n`` next-token candidates of a local model for ``prompt`` (raw continuation)."""
    prompt = chat.check_prompt(prompt)
    settings, top_n = validate(settings), check_top_n(top_n)
    with adapters.using(studio, studio.spec("text", check_model_id(model_id)), adapter) as text_model:
        logits, ids, note = _next_token_logits(studio, text_model, prompt)
        table = table_from_distribution(text_model.tokenizer, logits, settings, top_n, len(ids))
        table.note = note
        return table


MAX_PIECES_PER_CHARACTER = 4  # UTF-8 takes at most four bytes


def sample_next_token(
    studio: StudioContext, prompt: str, settings: SamplingSettings, seed: Any = None, model_id: str | None = None,
    adapter: TextAdapter | None = None,
) -> tuple[str, str, int]:
    """Roll the die on the filtered distribution; returns (prompt + token, the token, seed used)."""
    import torch

    prompt = chat.check_prompt(prompt)
    settings = validate(settings)
    seed = resolve_seed(seed)
    with adapters.using(studio, studio.spec("text", check_model_id(model_id)), adapter) as text_model:
        tokenizer = text_model.tokenizer
        logits, ids, _ = _next_token_logits(studio, text_model, prompt)
        generator = torch.Generator().manual_seed(seed)
        before = tokenizer.decode(ids, skip_special_tokens=True)
        drawn: list[int] = []
        # A byte-level token may be part of a character (one byte of a Chinese character's three):
        # draw on until the character is whole, as the tokenizer view holds such bytes, so the
        # prompt never gets a lone "\ufffd".
        for _ in range(MAX_PIECES_PER_CHARACTER):
            drawn.append(int(torch.multinomial(filter_logits(logits, settings).probs, 1, generator=generator)))
            after = tokenizer.decode(ids + drawn, skip_special_tokens=True)
            if not after.endswith("\ufffd"):
                break
            logits = _logits_after(studio, text_model.model, ids + drawn)
        token_text = after[len(before):] if after.startswith(before) else tokenizer.decode(drawn)
        # Bytes that make no character even after four pieces (a random-weight model draws such):
        # left out, never shown as "\ufffd".
        token_text = token_text.replace("\ufffd", "")
        chat.check_prompt(prompt + token_text)
        return prompt + token_text, token_text, seed
