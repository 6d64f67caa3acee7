"""A user's own style files, read from the styles folder (the ``styles_dir`` setting):

- Fooocus-style ``*.json``: a list of {"name", "prompt", "negative_prompt"} (Fooocus's
  ``sdxl_styles/*.json`` files can be copied in as they are);
- A1111's ``styles.csv`` (any ``*.csv``): a header row ``name,prompt,negative_prompt``.

A template's ``{prompt}`` is where the user's prompt goes; without one, the style's text
follows the prompt (as both programs do). The folder is looked at on every request and a file
is read again when it changes, so a new file is picked up without a restart. A file that
cannot be read is skipped with a sentence saying why (``problems``); it never stops the rest.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

MAX_FILE_BYTES = 5_000_000  # Fooocus's six files together are about 200 kB
MAX_NAME_CHARS = 100
MAX_TEXT_CHARS = 5_000
SUFFIXES = (".json", ".csv")


@dataclass(frozen=True)
class StyleEntry:
    name: str
    prompt: str
    negative_prompt: str
    source: str  # the file it came from


@dataclass(frozen=True)
class FolderStyles:
    entries: tuple[StyleEntry, ...]  # every file's styles, files in name order (a name's first wins)
    problems: tuple[str, ...]  # one sentence per file (or entry) skipped


class StyleFileError(ValueError):
    """A file that is not a style file; its message is the sentence shown."""


def read_folder(folder: Path | None) -> FolderStyles:
    """Every style in ``folder``'s files (re-read only when a file changed)."""
    if folder is None or not Path(folder).is_dir():
        return FolderStyles((), ())
    try:
        files = sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
        signature = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    except OSError as exc:
        return FolderStyles((), (f"The styles folder {Path(folder).name}/ cannot be read ({exc.strerror or exc}).",))
    return _read(str(Path(folder).resolve()), signature)


@lru_cache(maxsize=16)
def _read(folder: str, signature: tuple[tuple[str, int, int], ...]) -> FolderStyles:
    entries: list[StyleEntry] = []
    problems: list[str] = []
    for name, _mtime, size in signature:
        label = f"{Path(folder).name}/{name}"
        try:
            if size > MAX_FILE_BYTES:
                raise StyleFileError(f"it is {size / 1e6:.1f} MB; a style file is at most {MAX_FILE_BYTES // 1_000_000} MB")
            text = (Path(folder) / name).read_text(encoding="utf-8-sig")
            rows = _json_rows(text) if name.lower().endswith(".json") else _csv_rows(text)
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{label} was skipped: it cannot be read as UTF-8 text ({exc}).")
            continue
        except StyleFileError as exc:
            problems.append(f"{label} was skipped: {exc}.")
            continue
        kept, bad = _entries(rows, label)
        entries += kept
        if bad:
            problems.append(f"{label}: {bad} entr{'y' if bad == 1 else 'ies'} without a usable name or text were skipped.")
    return FolderStyles(tuple(entries), tuple(problems))


def _json_rows(text: str) -> list[Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise StyleFileError(f"it is not valid JSON ({exc})") from None
    if not isinstance(data, list):
        raise StyleFileError('a Fooocus style file is a JSON list of {"name", "prompt", "negative_prompt"} objects')
    return data


def _csv_rows(text: str) -> list[Any]:
    reader = csv.DictReader(io.StringIO(text))
    fields = [str(f or "").strip().lower() for f in reader.fieldnames or []]
    if "name" not in fields:
        raise StyleFileError("an A1111 styles file starts with the header row name,prompt,negative_prompt")
    reader.fieldnames = fields
    try:
        return list(reader)
    except csv.Error as exc:
        raise StyleFileError(f"it is not valid CSV ({exc})") from None


def _entries(rows: list[Any], label: str) -> tuple[list[StyleEntry], int]:
    kept: list[StyleEntry] = []
    bad = 0
    for row in rows:
        if not isinstance(row, dict):
            bad += 1
            continue
        name = str(row.get("name") or "").strip()
        prompt, negative = (row.get(key) or "" for key in ("prompt", "negative_prompt"))
        if (not name or len(name) > MAX_NAME_CHARS or not isinstance(prompt, str) or not isinstance(negative, str)
                or len(prompt) > MAX_TEXT_CHARS or len(negative) > MAX_TEXT_CHARS):
            bad += 1
            continue
        kept.append(StyleEntry(name, prompt.strip(), negative.strip(), label))
    return kept, bad
