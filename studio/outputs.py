"""Where results are written: outputs/<date>/<session>/, one folder per user and day."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def safe_name(text: str, fallback: str = "item", max_len: int = 64) -> str:
    """A file-name-safe version of ``text``: no separators, no dots, no path tricks."""
    cleaned = _UNSAFE.sub("_", text).strip("_")[:max_len]
    return cleaned or fallback


def session_dir(root: Path, session_id: str, today: dt.date | None = None) -> Path:
    day = (today or dt.date.today()).isoformat()
    folder = Path(root) / day / safe_name(session_id, "anonymous", 16)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
