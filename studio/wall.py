"""The class wall: results students chose to show everyone, with their prompt and settings.

A student publishes one of their own pictures; it is copied (with its PNG metadata, so "Try this
prompt" can put its settings into anyone's Image tab) into the wall's folder under a random name.
Everyone sees the wall; only the teacher hides an item. The wall is one JSON file beside the
pictures, written whole under a lock, so a restart keeps it.
"""

from __future__ import annotations

import json
import secrets
import shutil
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from studio.errors import BadInput
from studio.pictures import metadata

WALL = "wall"
MAX_ITEMS = 500  # the oldest go first beyond this
MAX_TITLE_CHARS = 80


@dataclass
class WallItem:
    id: str
    owner: str  # whose result it was (an owner key, never shown to others)
    author: str  # the name shown ("" for a student without a login)
    path: str  # the wall's own copy
    prompt: str
    created: float
    hidden: bool = False


class Wall:
    def __init__(self, outputs: Path):
        self.folder = Path(outputs) / WALL
        self._lock = threading.Lock()

    @property
    def _index(self) -> Path:
        return self.folder / "wall.json"

    def _read(self) -> list[WallItem]:
        try:
            rows = json.loads(self._index.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        return [WallItem(**row) for row in rows if isinstance(row, dict)]

    def _write(self, items: list[WallItem]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        scratch = self._index.with_suffix(".tmp")
        scratch.write_text(json.dumps([asdict(i) for i in items], ensure_ascii=False), encoding="utf-8")
        scratch.replace(self._index)

    def publish(self, owner: str, owner_folder: Path, picture: str | None, author: str = "") -> WallItem:
        """Put one of ``owner``'s own results (a file in ``owner_folder``) on the wall."""
        if not picture:
            raise BadInput("Pick one of your results first, then publish it.")
        path = Path(picture).resolve()
        if Path(owner_folder).resolve() not in path.parents or not path.is_file():
            raise BadInput("Only your own results can be published: pick one in your gallery or history.")
        found = metadata.read_parameters(path)
        request = (found.get("studio") or {}).get("request") or {}
        prompt = str(request.get("prompt") or (found.get("a1111") or {}).get("prompt") or "")
        item_id = secrets.token_hex(8)
        self.folder.mkdir(parents=True, exist_ok=True)
        copy = self.folder / f"{item_id}.png"
        shutil.copyfile(path, copy)
        item = WallItem(item_id, owner, str(author or "")[:MAX_TITLE_CHARS], str(copy), prompt, time.time())
        with self._lock:
            items = self._read() + [item]
            for old in items[:-MAX_ITEMS]:
                Path(old.path).unlink(missing_ok=True)
            self._write(items[-MAX_ITEMS:])
        return item

    def items(self, with_hidden: bool = False) -> list[WallItem]:
        """Newest first; hidden items only for the teacher."""
        with self._lock:
            items = self._read()
        return [i for i in reversed(items) if with_hidden or not i.hidden]

    def find(self, item_id: str) -> WallItem:
        for item in self.items(with_hidden=True):
            if item.id == item_id:
                return item
        raise BadInput("That item is no longer on the wall.")

    def set_hidden(self, item_id: str, hidden: bool) -> WallItem:
        with self._lock:
            items = self._read()
            for item in items:
                if item.id == item_id:
                    item.hidden = hidden
                    self._write(items)
                    return item
        raise BadInput("That item is no longer on the wall.")
