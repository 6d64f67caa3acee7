"""The host's processes, read from /proc, for the cluster tests: which Ray processes a test
started (by a mark in their command line, or by descent), whether they still run, and ending
exactly those (never Ray's processes of anyone else on the host)."""

from __future__ import annotations

import os
import signal
from pathlib import Path


def processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        found[int(entry.name)] = (parent, command)
    return found


def with_descendants(roots: set[int], table: dict[int, tuple[int, str]] | None = None) -> set[int]:
    table = processes() if table is None else table
    pids = set(roots)
    while True:
        children = {pid for pid, (parent, _) in table.items() if parent in pids} - pids
        if not children:
            return pids
        pids |= children


def marked(marks: list[str]) -> set[int]:
    """The processes whose command line holds one of ``marks``, and all their descendants."""
    table = processes()
    roots = {pid for pid, (_, command) in table.items() if any(mark in command for mark in marks)}
    return with_descendants(roots, table) - {os.getpid()}


def descendants(pid: int) -> set[int]:
    return with_descendants({pid}) - {pid}


def alive(pid: int) -> bool:
    """Running (a zombie has ended: it only waits for its parent to notice)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def kill(pids: set[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
