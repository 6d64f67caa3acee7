"""The slide's fill-in-the-blank: candidates and probabilities for every [MASK] of a sentence.

One forward pass of a masked LM (google-bert/bert-base-chinese by default) reads the whole
sentence, both sides of each blank; each [MASK] gets its own distribution over the vocabulary.
Special tokens are never shown as candidates, so the shown probabilities sum to at most 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from studio.errors import BadInput
from studio.replicated import model_key, replicated
from studio.text.diffusion.loading import require_mask_token
from studio.text.limits import MAX_MODEL_ID_CHARS, bounded_text
from studio.text.sampling import number

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedTokenizerBase

    from studio.context import StudioContext

CATALOG_NAME = "fill_mask"
MASK_TEXT = "[MASK]"  # what the user types; mapped to the model's own mask token
EXAMPLE = "炎龍老師很[MASK][MASK]"
MAX_TEXT_CHARS = 500
MAX_MASKS = 16
MAX_TOP_K = 20


@dataclass
class MaskGuess:
    """One blank: its place in ``FillMaskResult.tokens`` and its best candidates, most likely first."""

    index: int
    candidates: list[tuple[str, float]]


@dataclass
class FillMaskResult:
    text: str  # as typed
    tokens: list[str]  # what the model read, [CLS] and [SEP] included
    masks: list[MaskGuess]  # one per [MASK], left to right
    filled: str  # the text with each blank's most likely candidate
    model: str


def _word(piece: str) -> str:
    """A candidate as it would fill the blank: no WordPiece "##" continuation mark, no spaces."""
    return piece.strip().removeprefix("##")


def check_text(text: object, what: str = "sentence") -> str:
    value = bounded_text(text, what, MAX_TEXT_CHARS)
    if not value.strip():
        raise BadInput(f"The {what} is empty: type one, e.g. {EXAMPLE}.")
    return value


def _masked_text(text: object) -> str:
    value = check_text(text)
    count = value.count(MASK_TEXT)
    if count == 0:
        raise BadInput(f"Put at least one {MASK_TEXT} where the model should guess, e.g. {EXAMPLE}.")
    if count > MAX_MASKS:
        raise BadInput(f"The sentence has {count} {MASK_TEXT}s; at most {MAX_MASKS} are guessed at once.")
    return value


def best_candidates(
    probabilities: torch.Tensor, tokenizer: PreTrainedTokenizerBase, top_k: int
) -> list[list[tuple[str, float]]]:
    """For each row of ``probabilities`` (one blank): its ``top_k`` likeliest tokens that are not
    special tokens, as (text, probability), the most likely first."""
    import torch

    specials = sorted(set(tokenizer.all_special_ids))
    eligible = probabilities.clone()
    eligible[:, torch.tensor(specials, dtype=torch.long, device=eligible.device)] = -1.0  # never shown
    best = eligible.topk(min(top_k, eligible.shape[-1] - len(specials)), dim=-1)
    rows = []
    for values, token_ids in zip(probabilities.gather(-1, best.indices).tolist(), best.indices.tolist()):
        words = tokenizer.batch_decode([[i] for i in token_ids], skip_special_tokens=False)
        rows.append([(_word(word), p) for word, p in zip(words, values)])
    return rows


@replicated("fill_mask", lambda arguments: model_key(CATALOG_NAME, arguments["model_id"]))
def fill_mask(studio: StudioContext, text: str, top_k: int = 5, model_id: str = "") -> FillMaskResult:
    """The ``top_k`` most likely tokens for each [MASK] in ``text``, with their probabilities."""
    text = _masked_text(text)
    top_k = number("Top-k", top_k, int)
    if not 1 <= top_k <= MAX_TOP_K:
        raise BadInput(f"Top-k must be between 1 and {MAX_TOP_K}, not {top_k}.")
    model_id = bounded_text(model_id, "model id", MAX_MODEL_ID_CHARS).strip()
    spec = studio.spec(CATALOG_NAME, model_id or None)
    import torch

    with studio.cache.use(spec) as masked_lm:
        model, tokenizer = masked_lm.model, masked_lm.tokenizer
        mask_id = require_mask_token(tokenizer, model_id or spec.source)
        ids = tokenizer(text.replace(MASK_TEXT, tokenizer.mask_token))["input_ids"]
        limit = getattr(model.config, "max_position_embeddings", None)
        if limit and len(ids) > limit:
            raise BadInput(f"The sentence is {len(ids)} tokens; this model reads at most {limit}.")
        blanks = [i for i, token_id in enumerate(ids) if token_id == mask_id]
        with torch.inference_mode():
            sequence = torch.tensor([ids], device=model.device)
            logits = studio.cache.run(lambda: model(input_ids=sequence).logits)
            probabilities = torch.softmax(logits[0, blanks].float(), dim=-1)
            candidates = best_candidates(probabilities, tokenizer, top_k)
        tokens = tokenizer.batch_decode([[i] for i in ids], skip_special_tokens=False)
    guesses = [MaskGuess(index, row) for index, row in zip(blanks, candidates)]
    filled = text
    for guess in guesses:
        filled = filled.replace(MASK_TEXT, guess.candidates[0][0] if guess.candidates else "", 1)
    model_name = f"{model_id or 'default'} ({spec.source})" if spec.is_tiny else spec.source
    return FillMaskResult(text=text, tokens=tokens, masks=guesses, filled=filled, model=model_name)
