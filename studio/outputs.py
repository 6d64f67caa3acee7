"""Where results are written: outputs/<date>/<session>/, one folder per user and day."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
BROWSER_ID = re.compile(r"^[0-9a-f]{32}$")  # the random id a browser keeps (tabs/owner.py)


def safe_name(text: str, fallback: str = "item", max_len: int = 64) -> str:
    """A file-name-safe version of ``text``: no separators, no dots, no path tricks."""
    cleaned = _UNSAFE.sub("_", text).strip("_")[:max_len]
    return cleaned or fallback


def session_dir(root: Path, session_id: str, today: dt.date | None = None) -> Path:
    day = (today or dt.date.today()).isoformat()
    folder = Path(root) / day / safe_name(session_id, "anonymous", 16)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def owner_key(user: str | None = None, browser_id: str | None = None, session: str | None = None) -> str:
    """Whose results these are: the logged-in user, else this browser's id, else the Gradio
    session (scripts). Every tool files a user's results, jobs and adapters under this key."""
    if user:
        return "user-" + safe_name(user, "user", 48)
    if browser_id and BROWSER_ID.match(str(browser_id)):
        return "browser-" + browser_id
    return "session-" + safe_name(session or "script", "script", 32)
