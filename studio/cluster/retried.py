"""What a call tells its user after its replica was lost and it moved to another.

The retry costs the user time (the work starts again there), so it is said: in the progress
line while the second replica works, and in the notes of what that replica made (the notes
the tabs and the API already show beside each result).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from studio.progress import LABELS, Label

NOTE = "One replica was lost; finished on another."
PROGRESS = LABELS["replica_lost"]
# The progress words in the reader's language (assets/i18n, like every progress label); English
# until a translation is there.
KEY = "progress.replica_lost"


@dataclass(frozen=True)
class RetriedLabel(Label):
    """A progress label from the second replica, with the word that the first was lost."""

    key: str = "replica_lost"
    inner: Label | str = ""  # the replica's own label

    def worded(self, say: Callable[[str], str] | None = None) -> str:
        inner = self.inner.worded(say) if isinstance(self.inner, Label) else str(self.inner)
        said = say(KEY) if say is not None else KEY
        note = PROGRESS if said == KEY else said
        return f"{inner} · {note}" if inner else note


def noted(value: Any) -> Any:
    """``value`` (a result, a list of them, or a text update) with the note added where it has
    notes; unchanged otherwise (a caption, say)."""
    for item in value if isinstance(value, list) else [value]:
        holder = item if hasattr(item, "notes") else getattr(item, "result", None)  # a text update: its result
        notes = getattr(holder, "notes", None)
        if isinstance(notes, list) and NOTE not in notes:
            notes.append(NOTE)
    return value
