"""Fooocus-style arrays: ``[[red, blue, green]] fox`` draws one image per item.

Each item is drawn with the same seed, so the item is the only thing that changes between
them (a lesson in one row of pictures). With several arrays every combination is drawn, the
first array changing fastest (as Fooocus counts them). ``image_number`` stays the number of
seeds: the request gives ``image_number × combinations`` images, seed by seed.

Double brackets are an array; a single ``[word]`` keeps A1111's meaning (its weight ÷ 1.1,
studio.image.prompt_syntax), and ``\\[[`` is written as a literal bracket. A1111's nested
``[[word]]`` (÷ 1.21) is therefore an array of one item here; write ``(word:0.83)`` instead.
Arrays are read in the prompt only (as Fooocus does), not in the negative prompt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from studio.errors import BadInput

PATTERN = re.compile(r"(?<!\\)\[\[(.*?)\]\]", re.S)
MAX_ITEMS = 32  # per array: more is a pasted list, not a comparison


def arrays(prompt: str) -> list[tuple[str, ...]]:
    """Each array's items, in the order they appear (empty items dropped; an empty array is one "")."""
    found = []
    for match in PATTERN.finditer(prompt or ""):
        items = tuple(item.strip() for item in match.group(1).split(",") if item.strip())
        if len(items) > MAX_ITEMS:
            raise BadInput(f"An array holds at most {MAX_ITEMS} items; [[{match.group(1)[:40]}…]] has {len(items)}.")
        found.append(items or ("",))
    return found


def combinations(prompt: str) -> int:
    """How many images one seed gives: the product of the arrays' lengths (1 without arrays)."""
    count = 1
    for items in arrays(prompt):
        count *= len(items)
    return count


@dataclass(frozen=True)
class Picked:
    prompt: str  # the prompt with each array replaced by its item
    items: tuple[str, ...]  # the item of each array, in order (empty without arrays)
    index: int  # which combination, 0-based


def pick(prompt: str, index: int) -> Picked:
    """Combination ``index`` (taken modulo their number): the first array changes fastest."""
    found = arrays(prompt)
    if not found:
        return Picked(prompt, (), 0)
    index %= combinations(prompt)
    chosen: list[str] = []
    rest = index
    for items in found:
        chosen.append(items[rest % len(items)])
        rest //= len(items)
    replacements = iter(chosen)
    return Picked(PATTERN.sub(lambda _match: next(replacements), prompt), tuple(chosen), index)
