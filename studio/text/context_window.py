"""How many tokens a model reads, and fitting a prompt (and a reply) into that."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PreTrainedModel


def context_limit(model: PreTrainedModel) -> int | None:
    config = model.config
    for name in ("max_position_embeddings", "n_positions"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None  # e.g. BLOOM (ALiBi): no fixed limit


def fit_context(ids: list[int], limit: int | None, max_new_tokens: int) -> tuple[list[int], int, list[str]]:
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
