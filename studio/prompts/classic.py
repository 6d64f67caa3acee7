"""Classic expansion (the Prompt tab's button): GPT-2 continues the prompt, but may only write
visual words. The engine is studio.image.fooocus_v2, which the Image tab's "Fooocus V2" style
also runs for every image; here the user's text is checked first, as every expansion's is."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.image.fooocus_v2 import (  # noqa: F401  (this module's names, as before)
    CLASSIC_MODEL, MAX_NEW_TOKENS, SEPARATORS, WORDS_FILE, ClassicResult, PhraseTrie, added_phrases, allowed_token_ids,
    expand, visual_words,
)
from studio.prompts.expand import check_text

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from studio.context import StudioContext


def classic_expand(
    studio: StudioContext, text: Any, temperature: float = 0.9, seed: Any = -1,
    max_new_tokens: int = MAX_NEW_TOKENS, model_id: str = CLASSIC_MODEL,
) -> ClassicResult:
    """``text`` followed by visual words that GPT-2 picks (only from the allowed list)."""
    return expand(studio, check_text(text), temperature, seed, max_new_tokens, model_id)
