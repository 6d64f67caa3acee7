"""Forgetting uploaded face photos once they are read: source faces are held in memory only,
never kept on disk.

The web server keeps each upload content-addressed (``<root>/<hash>/<name>``, and sometimes a
second such copy), so the same photo uploaded as the source and as the target is one file. A
photo the request still needs (its target) is therefore spared, with its copies: deleting the
source would delete the target under it.
"""

from __future__ import annotations

import glob
import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from studio.pictures.reading import path_of


def forget(paths: Iterable[Any], root: str | Path, keep: Iterable[Any] = ()) -> None:
    """Delete the files in ``paths`` that lie under ``root`` (the upload folder), and their
    copies there (same name, same bytes), except those that are also a photo in ``keep``.
    Files anywhere else are never touched; a file already gone is no error."""
    root = Path(root).resolve()
    needed = {identity for identity in map(_identity, keep) if identity}
    for value in map(path_of, paths):
        if not value:
            continue
        try:
            path = Path(str(value)).resolve()
            if root not in path.parents or not path.is_file():
                continue
            digest = _digest(path)
            if (path.name, digest) in needed:
                continue
            for copy in root.glob(f"*/{glob.escape(path.name)}"):
                if copy != path and copy.stat().st_size == path.stat().st_size and _digest(copy) == digest:
                    copy.unlink(missing_ok=True)
            path.unlink(missing_ok=True)
        except OSError:
            pass  # already gone, or not ours to delete


def _identity(value: Any) -> tuple[str, str] | None:
    """A file's name and content digest, what makes two uploads the same photo (None: no file)."""
    value = path_of(value)
    if not value:
        return None
    try:
        path = Path(str(value))
        return (path.name, _digest(path)) if path.is_file() else None
    except OSError:
        return None


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
