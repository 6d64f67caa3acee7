"""Errors whose message is written for a student, not a stack trace.

Tabs turn every ``StudioError`` into ``gr.Error`` with the same sentence, in the reader's
language where the error carries a ``key`` (assets/i18n/errors.json holds the other languages;
the English is the message itself). ``args`` fill the translated template; an argument that is
an i18n key of its own (a field's label) is given in ``labels`` and translated first.
"""

from __future__ import annotations

from typing import Any, Callable


SHOWN_CHARS = 40  # how much of a wrong value an error message repeats


def shown(value: Any) -> str:
    """``repr(value)`` for an error message, shortened: a giant value is not echoed back whole."""
    text = repr(value)
    if len(text) <= SHOWN_CHARS:
        return text
    size = f" ({len(value):,} characters)" if isinstance(value, str) else ""
    return f"{text[:SHOWN_CHARS]}…{size}"


class StudioError(Exception):
    """Something the user can understand and act on."""

    def __init__(self, message: str = "", key: str | None = None, labels: dict[str, tuple[str, str]] | None = None,
                 **args: Any):
        super().__init__(message)
        self.key = key
        self.values = args
        self.labels = labels or {}  # name -> (i18n key, English) of an argument that is itself a label

    def worded(self, say: Callable[[str], str] | None = None) -> str:
        """The sentence in the reader's language (``say``: key -> text), English when untranslated."""
        message = str(self)
        if say is None or not self.key:
            return message
        template = say(self.key)
        if template == self.key:
            return message
        named = dict(self.values)
        for name, (label_key, english) in self.labels.items():
            said = say(label_key)
            named[name] = english if said == label_key else said
        try:
            return template.format(**named)
        except (KeyError, IndexError, ValueError):
            return message

    def __reduce__(self) -> tuple:  # crosses a ZeroGPU fork and a Ray wire with its key
        return _rebuild, (type(self), str(self), self.key, self.labels, self.values)


def _rebuild(cls: type, message: str, key: str | None, labels: dict, values: dict) -> "StudioError":
    return cls(message, key, labels, **values)


class BadInput(StudioError):
    """The request itself is wrong: empty prompt, value out of range, wrong file."""


class ModelUnavailable(StudioError):
    """A model id cannot be loaded (not downloaded, no network, unknown id)."""


class OutOfMemory(StudioError):
    """The model does not fit in the memory budget, even after freeing others."""
