"""Counting a prompt in the image model's own CLIP tokens, and trimming it to the 77-token
window at phrase boundaries (commas), never inside a word.

The tokenizer is the SDXL repo's ``tokenizer`` subfolder (the tiny SDXL twin's in the tiny
profile), loaded as a "tokenizer" cache entry: no weights, and shared with anyone else who
asks for the same spec.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from studio.models import catalog
from studio.models.specs import ModelSpec
from studio.tokens.clip_limit import CLIP_LIMIT

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from transformers import PreTrainedTokenizerBase

    from studio.context import StudioContext

SDXL_TWIN = "sdxl"
FALLBACK_SDXL_ID = "stabilityai/stable-diffusion-xl-base-1.0"


def tokenizer_spec(studio: StudioContext) -> ModelSpec:
    """The SDXL checkpoint's CLIP tokenizer: its Hub repo, or the tiny SDXL twin."""
    settings = studio.settings
    if settings.is_tiny:
        source = f"tiny:{SDXL_TWIN}"
    else:
        configured = catalog.default_id(settings, "image")
        twins = catalog.entry("image").twins
        source = configured if twins.get(configured) == SDXL_TWIN else next(
            (hub_id for hub_id, twin in twins.items() if twin == SDXL_TWIN), FALLBACK_SDXL_ID
        )
    return ModelSpec(kind="tokenizer", source=source, subfolder="tokenizer", dtype=settings.dtype, label="clip tokenizer")


def clip_tokenizer(studio: StudioContext) -> PreTrainedTokenizerBase:
    return studio.cache.get(tokenizer_spec(studio))


def count(tokenizer: PreTrainedTokenizerBase, text: str) -> int:
    """Tokens the text encoder reads for ``text``, start and end marks included."""
    return len(tokenizer(text, truncation=False, add_special_tokens=True, verbose=False)["input_ids"])


@dataclass(frozen=True)
class Trimmed:
    text: str
    tokens: int  # of ``text``, marks included
    original_tokens: int
    dropped: str  # what was removed ("" when nothing)

    @property
    def trimmed(self) -> bool:
        return bool(self.dropped)


def _pieces(text: str) -> list[str]:
    """Phrases with the comma that ends them; a phrase too long alone is split into words."""
    return [p for p in re.split(r"(?<=,)", text) if p.strip()]


def trim(tokenizer: PreTrainedTokenizerBase, text: str, limit: int = CLIP_LIMIT) -> Trimmed:
    """The longest start of ``text`` that fits ``limit`` tokens, cut after a whole phrase
    (or, when even the first phrase is too long, after a whole word)."""
    text = text.strip()
    total = count(tokenizer, text)
    if total <= limit:
        return Trimmed(text, total, total, "")
    kept = ""
    for phrase in _pieces(text):
        candidate = kept + phrase
        if count(tokenizer, candidate.strip().rstrip(",")) > limit:
            break
        kept = candidate
    if not kept.strip():  # the first phrase alone overflows: keep whole words of it
        for word in re.findall(r"\S+\s*", text):
            if count(tokenizer, (kept + word).strip().rstrip(",")) > limit:
                break
            kept += word
    kept_text = kept.strip().rstrip(",").strip()
    return Trimmed(kept_text, count(tokenizer, kept_text), total, text[len(kept):].strip().lstrip(",").strip())
