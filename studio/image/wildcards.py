"""Fooocus-style wildcards: ``__name__`` in a prompt is replaced by one line of
``<wildcards folder>/name.txt``, picked with the image's seed, so a seed gives the same words
again. A wildcard's line may hold wildcards of its own (up to MAX_DEPTH deep). Names are
letters, digits, ``_``, ``-`` and ``/`` (subfolders): never a path out of the folder."""

from __future__ import annotations

import random
import re
from pathlib import Path

PATTERN = re.compile(r"__([A-Za-z0-9_\-/]+?)__")
MAX_DEPTH = 5
MAX_FILE_BYTES = 1_000_000


def options(folder: Path, name: str) -> list[str]:
    """The non-empty lines of ``name.txt`` (``#`` lines are comments); [] when there is none."""
    path = Path(folder) / f"{name}.txt"
    try:
        if not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
            return []
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def expand(text: str, folder: Path, seed: int) -> tuple[str, list[str]]:
    """``text`` with each wildcard replaced, and notes on those left as written (no such file)."""
    if "__" not in text:
        return text, []
    rng = random.Random(seed)
    missing: list[str] = []

    def pick(match: re.Match) -> str:
        name = match.group(1)
        lines = options(folder, name)
        if not lines:
            missing.append(name)
            return match.group(0)
        return rng.choice(lines)

    for _ in range(MAX_DEPTH):
        expanded = PATTERN.sub(pick, text)
        if expanded == text:
            break
        text = expanded
    notes = [f"No wildcard file {name}.txt in {Path(folder).name}/: __{name}__ was left as written."
             for name in dict.fromkeys(missing)]
    return text, notes
