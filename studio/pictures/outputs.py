"""Where a user's images live, and their history.

Each owner (a browser, through its pinned ``gr.BrowserState`` id; a logged-in user, by
name; a script, by its session) has one folder ``<outputs>/images/<owner>/<date>/``. The
history is what that folder holds, newest first, so it survives a reload and a restart,
and a result finished after its page went away is there too. Owners never share a folder.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.pictures import metadata
from studio.outputs import owner_key

if TYPE_CHECKING:
    from PIL import Image

IMAGES = "images"
HISTORY_LIMIT = 200
_counter_lock = threading.Lock()


def owner_folder(outputs_root: Path, user: str | None = None, browser_id: str | None = None,
                 session: str | None = None) -> Path:
    """The owner's images folder (its name is the owner key, see studio.outputs.owner_key)."""
    folder = Path(outputs_root) / IMAGES / owner_key(user, browser_id, session)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


RANDOM_PART_BYTES = 8  # 64 random bits in each name: a result's address cannot be guessed


def save_png(owner: Path, image: Image.Image, a1111: str, parameters: dict[str, Any], seed: int | None,
             kind: str = "image") -> Path:
    """Save under today's folder as ``<n>-<time>-<seed>-<random>.png``, or ``<n>-<time>-<kind>-<random>.png``
    for a result made without a seed (a face swap, a fast upscale): the name says what the history
    shows, and its random part keeps anyone who was not handed the file from fetching it by URL
    (the outputs folder is served to browsers: tabs.launch_options)."""
    day = owner / dt.date.today().isoformat()
    day.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%H%M%S")
    tail = str(seed) if seed is not None else re.sub(r"[^a-z0-9]+", "-", kind.lower()).strip("-") or "image"
    with _counter_lock:  # unique names even for images finished in the same second
        number = len(list(day.glob("*.png"))) + 1
        path = day / f"{number:05d}-{stamp}-{tail}-{secrets.token_hex(RANDOM_PART_BYTES)}.png"
        image.save(path, pnginfo=metadata.png_info(a1111, parameters))
    return path


def history(owner: Path, limit: int = HISTORY_LIMIT) -> list[tuple[str, str]]:
    """(path, caption) of the owner's images, newest first."""
    files = sorted(Path(owner).glob("*/*.png"), key=lambda p: (p.parent.name, p.name), reverse=True)[:limit]
    return [(str(path), caption(path)) for path in files]


_RANDOM_TAIL = re.compile(rf"-[0-9a-f]{{{2 * RANDOM_PART_BYTES}}}$")


def caption(path: Path) -> str:
    """"seed 42 · 2026-12-03", or what the result is ("face swap · 2026-12-03")."""
    tail = _RANDOM_TAIL.sub("", path.stem).split("-", 2)[-1]  # <n>-<time>-<seed or kind>[-<random>]
    made = f"seed {tail}" if tail.lstrip("-").isdigit() else tail.replace("-", " ")
    return f"{made} · {path.parent.name}"


def read_request(path: Path) -> dict[str, Any]:
    """The studio request saved in one of the owner's PNGs."""
    found = metadata.read_parameters(path)
    return found.get("studio", {}).get("request", {}) if "studio" in found else {}


def as_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1)
