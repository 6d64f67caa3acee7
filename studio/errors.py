"""Errors whose message is written for a student, not a stack trace.

Tabs turn every ``StudioError`` into ``gr.Error`` with the same sentence.
"""


class StudioError(Exception):
    """Something the user can understand and act on."""


class BadInput(StudioError):
    """The request itself is wrong: empty prompt, value out of range, wrong file."""


class ModelUnavailable(StudioError):
    """A model id cannot be loaded (not downloaded, no network, unknown id)."""


class OutOfMemory(StudioError):
    """The model does not fit in the memory budget, even after freeing others."""
