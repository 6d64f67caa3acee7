"""Prompt weights in the syntax Fooocus, A1111 and ComfyUI users type: ``(word:1.3)`` sets a
weight, ``(word)`` multiplies by 1.1 and ``[word]`` divides by 1.1 (nesting multiplies),
``\\(`` and ``\\[`` are literal brackets. A group left open weighs the rest of the prompt; a
stray closing bracket is text.

The text is split here into (text, weight) fragments; compel (studio.image.prompt_encoding)
applies the weights. Compel's own syntax is not used on user text: it reads a trailing ``+`` or
``-`` on a word as a weight ("cute+ cat"), which these users do not mean.
"""

from __future__ import annotations

import re

UP = 1.1
DOWN = 1 / 1.1
_WEIGHT = re.compile(r"^(.*?):\s*([+-]?(?:\d+\.?\d*|\.\d+))\s*$", re.S)
_ESCAPED = {"(", ")", "[", "]", "\\"}


def fragments(prompt: str) -> list[tuple[str, float]]:
    """``prompt`` as (text, weight) runs, adjacent runs of one weight merged."""
    parts: list[list] = []  # [text, weight]
    groups: list[tuple[str, int]] = []  # (bracket, index of its first part)
    joinable = False  # the last part may take more text (no bracket since it began)
    i = 0
    while i < len(prompt):
        char = prompt[i]
        if char == "\\" and i + 1 < len(prompt) and prompt[i + 1] in _ESCAPED:
            char, i = prompt[i + 1], i + 1
        elif char in "([":
            groups.append((char, len(parts)))
            joinable = False
            i += 1
            continue
        elif (char == ")" and groups and groups[-1][0] == "(") or (char == "]" and groups and groups[-1][0] == "["):
            bracket, start = groups.pop()
            factor = UP if bracket == "(" else DOWN
            if bracket == "(" and len(parts) > start:
                stated = _WEIGHT.match(parts[-1][0])
                if stated:
                    parts[-1][0] = stated.group(1)
                    factor = float(stated.group(2))
            for part in parts[start:]:
                part[1] *= factor
            joinable = False
            i += 1
            continue
        if joinable:
            parts[-1][0] += char
        else:
            parts.append([char, 1.0])
            joinable = True
        i += 1
    for bracket, start in groups:  # left open: they weigh the rest
        for part in parts[start:]:
            part[1] *= UP if bracket == "(" else DOWN
    merged: list[tuple[str, float]] = []
    for text, weight in parts:
        if not text:
            continue
        if merged and abs(merged[-1][1] - weight) < 1e-9:
            merged[-1] = (merged[-1][0] + text, weight)
        else:
            merged.append((text, weight))
    return merged


def has_weights(prompt: str) -> bool:
    return any(abs(weight - 1.0) > 1e-9 for _, weight in fragments(prompt))


def plain(prompt: str) -> str:
    """The words without the weight syntax (what a model that reads no weights is given)."""
    return "".join(text for text, _ in fragments(prompt))
