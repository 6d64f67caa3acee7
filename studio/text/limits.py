"""How long each text field of the Text tab may be, checked before any work is done.

Each bound follows from what the field is for, so that a pasted novel (or a script sending
200,000 characters) is refused at once with a sentence naming the limit, instead of keeping
a worker busy for minutes (a long stop string, for instance, costs work per vocabulary entry).
"""

from __future__ import annotations

from typing import Any

from studio.errors import BadInput, shown  # noqa: F401  (shown is used by the text modules through here)

MAX_PROMPT_CHARS = 100_000  # far more than a small model reads; the prompt is cut to its context
MAX_SYSTEM_PROMPT_CHARS = 20_000  # a persona or a set of rules, not a document
MAX_STOP_STRINGS = 8
MAX_STOP_STRING_CHARS = 64  # a stop string marks an end ("\nUser:", "。"), it is not a passage
MAX_STOP_STRINGS_TEXT_CHARS = 4_096  # the whole box, blank lines included
MAX_MODEL_ID_CHARS = 300  # a Hub id ("owner/name") or a local folder
MAX_ENDPOINT_URL_CHARS = 500
MAX_ENDPOINT_MODEL_CHARS = 200
MAX_API_KEY_CHARS = 2_048  # long enough for a JWT-style bearer token
MAX_SCORES = 50  # softmax by hand: a pencil-and-paper sized example
MAX_SCORES_TEXT_CHARS = 2_000
MAX_NUMBER_CHARS = 64  # a number typed as text: digits, sign, point, exponent


def bounded_text(value: Any, what: str, limit: int) -> str:
    """``value`` as a string, or BadInput saying how long ``what`` may be."""
    text = "" if value is None else str(value)
    if len(text) > limit:
        raise BadInput(f"The {what} has {len(text):,} characters; the limit is {limit:,}.")
    return text
