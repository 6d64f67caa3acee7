"""User model files in folders a Fooocus / A1111 user recognises (checkpoints, loras, ...).

Files are listed fresh on every call, so a file dropped in appears without a restart;
nested folders and symlinked folders are followed. A name picked in the UI is a path
relative to its folder and is checked lexically (no absolute paths, no ``..``), so a
request can never reach outside the folder through it; symlinks the owner put inside are
theirs to make.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from studio.errors import BadInput

MAX_FILES = 2000  # a folder with a whole drive symlinked in must not stall the picker
MAX_NAME = 300


def list_files(folder: Path, suffixes: tuple[str, ...], with_pipeline_folders: bool = False) -> list[str]:
    """Relative POSIX paths of model files under ``folder`` (and diffusers folders, when asked)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found: list[str] = []
    for root, dirs, files in os.walk(folder, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        here = Path(root)
        rel_root = here.relative_to(folder)
        if with_pipeline_folders and "model_index.json" in files and here != folder:
            found.append(rel_root.as_posix())
            dirs[:] = []  # a pipeline's own subfolders are its components, not more models
            continue
        for name in sorted(files):
            if name.lower().endswith(suffixes) and not name.startswith("."):
                found.append((rel_root / name).as_posix())
        if len(found) >= MAX_FILES:
            break
    return found[:MAX_FILES]


def resolve(folder: Path, name: str, what: str) -> Path:
    """The file or folder ``name`` inside ``folder``; a clear error for anything else."""
    name = str(name or "").strip().replace("\\", "/")
    if not name or len(name) > MAX_NAME:
        raise BadInput(f"Pick a {what} from the list (the name is empty or too long).")
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts or ":" in relative.parts[0]:
        raise BadInput(f"{name[:80]!r} is not a {what} name: pick one from the list of {Path(folder)}.")
    path = Path(folder) / Path(*relative.parts)
    try:
        found = path.exists()
    except (OSError, ValueError):  # a part longer than the file system allows, a NUL byte...
        found = False
    if not found:
        raise BadInput(f"No {what} called {name[:80]!r} in {Path(folder)}. Refresh the list and pick one.")
    return path


def exists(folder: Path, name: str) -> bool:
    """Whether ``name`` is a file or folder inside ``folder``; False for anything unusable
    (too long, a path trick, a name the file system rejects) instead of an error."""
    try:
        resolve(folder, name, "model")
    except (BadInput, OSError, ValueError):
        return False
    return True
