"""What the /tokenize API returns: compact by default, every token's details on request.

A long Chinese text makes hundreds of thousands of tokens, and every JSON value costs
Gradio and gradio_client microseconds to walk: a list of dicts per token took 100 s for
200,000 characters. The compact answer is parallel lists (ids, offsets) plus per-id
tables (pieces, byte pieces) and never repeats the text; ``detail="full"`` keeps the old
per-token dicts and chips for texts up to 40,000 characters.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from studio.errors import BadInput
from studio.tokens.text_tokens import TokenView

DETAILS = ("compact", "full")
# Full detail of 40,000 Chinese characters is ~13 MB of JSON and seconds of the server's time
# (Gradio walks every value on its event loop); 200,000 took two minutes, so it is refused.
MAX_FULL_CHARS = 40_000


def check_detail(detail: str | None, characters: int = 0) -> str:
    """``"compact"`` (also for empty) or ``"full"`` for texts up to ``MAX_FULL_CHARS``."""
    choice = detail or "compact"
    if isinstance(choice, str):
        choice = choice.strip().lower()
    if choice not in DETAILS:
        raise BadInput(
            'detail is "compact" (ids, offsets, pieces, counts) or "full" (every token in detail), '
            f"not {str(detail)[:40]!r}."
        )
    if choice == "full" and characters > MAX_FULL_CHARS:
        raise BadInput(
            f'detail="full" takes at most {MAX_FULL_CHARS:,} characters (this text has {characters:,}); '
            'use detail="compact", which has the same ids, offsets and pieces in a smaller form.'
        )
    return choice


def _round_trip(view: TokenView, with_decoded: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"ok": view.round_trip_ok, "first_difference": view.first_difference()}
    if with_decoded:
        data["decoded"] = view.decoded
    return data


def compact(view: TokenView) -> dict[str, Any]:
    """Token ``i`` is ``ids[i]``, covering ``text[starts[i]:ends[i]]``, spelled ``pieces[str(ids[i])]``;
    it holds only part of a character exactly when its id is in ``byte_pieces`` (its hex UTF-8 bytes).
    Byte pieces of one character share that character's offsets."""
    partial = view.partial_ids
    return {
        "tokenizer": view.tokenizer,
        "detail": "compact",
        "counts": view.counts(),
        "ids": view.ids,
        "starts": view.starts,
        "ends": view.ends,
        "pieces": {str(token_id): piece for token_id, piece in view.piece_of.items()},
        "byte_pieces": {str(token_id): view.id_bytes[token_id][0] for token_id in partial},
        "special": view.special,
        "template": view.template,
        "byte_scheme": view.byte_scheme,
        "round_trip": _round_trip(view, with_decoded=False),
        "window": view.window.as_dict(with_texts=False) if view.window else None,
        "clip": view.clip.as_dict(with_texts=False) if view.clip else None,
    }


def full(view: TokenView) -> dict[str, Any]:
    """Every token as a dict, the chips, the decoded text, the window texts."""
    return {
        "tokenizer": view.tokenizer,
        "detail": "full",
        "counts": view.counts(),
        "ids": view.ids,
        "tokens": [{**asdict(t), "text": view.text[t.start:t.end]} for t in view.tokens],
        "chips": [{"text": c.text, "tokens": c.tokens} for c in view.chips],
        "byte_scheme": view.byte_scheme,
        "round_trip": _round_trip(view, with_decoded=True),
        "window": view.window.as_dict() if view.window else None,
        "clip": view.clip.as_dict() if view.clip else None,
    }


def answer(view: TokenView, detail: str = "compact") -> dict[str, Any]:
    return full(view) if check_detail(detail, len(view.text)) == "full" else compact(view)
