"""An axis's values as a user types them in the X/Y/Z grid, the way A1111's X/Y/Z plot reads them.

- A list, comma-separated: ``20, 30, 40`` or ``Euler a, DPM++ 2M Karras``. A value holding a comma
  is written in double quotes: ``"red, white", blue``.
- A numeric range, both ends included: ``1-5`` (1, 2, 3, 4, 5); with a step in round brackets,
  ``1-10 (+3)`` (1, 4, 7, 10) or ``10-1 (-3)``; with a count in square brackets, evenly spaced,
  ``0.5-1.5 [3]`` (0.5, 1.0, 1.5). A range without a step counts down when its end is lower.
  A negative number alone (``-1``) is a number, not a range.

Lists and ranges mix: ``1-3, 10`` is 1, 2, 3, 10.
"""

from __future__ import annotations

import csv
import math
import re

from studio.errors import BadInput

_NUMBER = r"[+-]?\d+(?:\.\d+)?"
# start - end, then an optional (step) or [count]
_RANGE = re.compile(
    rf"({_NUMBER})\s*-\s*({_NUMBER})\s*(?:\(\s*({_NUMBER})\s*\)|\[\s*(\d+)\s*\])?"
)
_DECIMALS = 6  # 0.1 + 0.2 shown as 0.3: a grid's labels and metadata read as typed
MAX_CHARS = 4_000  # a few dozen prompts' worth of S/R values; longer is a paste mistake


def texts(text: str) -> list[str]:
    """The comma-separated items of ``text`` (quotes keep a comma inside one), stripped, empty
    ones left out; a new line separates items too."""
    text = str(text or "")
    if len(text) > MAX_CHARS:
        raise BadInput(f"An axis's values are {len(text):,} characters long; at most {MAX_CHARS:,} are read.",
                       key="errors.grid_values_long", count=f"{len(text):,}", most=f"{MAX_CHARS:,}")
    items: list[str] = []
    for row in csv.reader(text.splitlines(), skipinitialspace=True):
        items += [item.strip() for item in row if item.strip()]
    return items


def numbers(text: str, whole: bool, name: str, limit: int) -> list[int] | list[float]:
    """The numbers of ``text`` (lists and ranges); ``whole``: whole numbers only. ``name`` is what
    the values are ("Steps"), for the sentences; a range that gives more than ``limit`` values is
    refused before it is spelled out."""
    found: list = []
    for item in texts(text):
        match = _RANGE.fullmatch(item)
        found += _spelled_out(item, match, whole, name, limit) if match else [_number(item, whole, name)]
        if len(found) > limit:
            raise BadInput(f"{name} has {len(found)} values or more; a grid holds at most {limit} cells.")
    return found


def _number(item: str, whole: bool, name: str) -> int | float:
    try:
        value = float(item)
    except ValueError:
        raise BadInput(f"{name} takes numbers or ranges like 1-5, not {item[:40]!r}.") from None
    if not math.isfinite(value):
        raise BadInput(f"{name} takes numbers or ranges like 1-5, not {item[:40]!r}.")
    if whole and value != int(value):
        raise BadInput(f"{name} takes whole numbers, not {item[:40]!r}.")
    return int(value) if whole else round(value, _DECIMALS)


def _spelled_out(item: str, match: re.Match, whole: bool, name: str, limit: int) -> list:
    start, end = (_number(match.group(i), whole, name) for i in (1, 2))
    step_text, count_text = match.group(3), match.group(4)
    if count_text is not None:
        count = int(count_text)
        if count < 1:
            raise BadInput(f"The range {item!r} asks for no values: the number in [ ] is how many.")
        if count > limit:
            raise BadInput(f"The range {item!r} gives {count} values; a grid holds at most {limit} cells.")
        if count == 1:
            return [start]
        spaced = [start + (end - start) * i / (count - 1) for i in range(count)]
        return [math.floor(v + 0.5) for v in spaced] if whole else [round(v, _DECIMALS) for v in spaced]
    step = _number(step_text, whole, name) if step_text is not None else (1 if end >= start else -1)
    if step == 0:
        raise BadInput(f"The range {item!r} has a step of 0; give one like (+1).")
    if (end - start) * step < 0:
        raise BadInput(f"The step of {item!r} goes away from its end; turn its sign around.")
    count = math.floor((end - start) / step + 1e-9) + 1  # the end itself when a step lands on it
    if count > limit:
        raise BadInput(f"The range {item!r} gives {count} values; a grid holds at most {limit} cells.")
    values = [start + i * step for i in range(count)]
    return [int(v) for v in values] if whole else [round(v, _DECIMALS) for v in values]
