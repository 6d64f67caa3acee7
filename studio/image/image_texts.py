"""One image's prompts, made from the request for that image's seed and array item.

In Fooocus's order: the prompt's array item is put in (studio.image.prompt_arrays) and its
wildcards are picked with the seed (studio.image.wildcards); that text is what Fooocus V2
expands (GPT-2, seeded by the image's seed: studio.image.fooocus_v2); the styles wrap it
(Random Style picked with the seed); the expansion's words follow the styled prompt. A family
whose encoder reads no weights gets the words without the weight syntax.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from studio.errors import StudioError
from studio.image import fooocus_v2, prompt_arrays, prompt_syntax, styles, wildcards
from studio.image.families.base import ImageFamily

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from studio.context import StudioContext

TEXT_SEEDS = 2**31  # the text models' seed range; an image seed is folded into it


@dataclass(frozen=True)
class ImageTexts:
    """What one image's model is given, and how it came about (for its metadata)."""

    prompt: str
    negative: str
    notes: tuple[str, ...] = ()
    styles: tuple[str, ...] = ()  # the template styles applied, Random Style resolved
    expansion: tuple[str, ...] = ()  # the phrases Fooocus V2 added
    array_items: tuple[str, ...] = ()  # this image's item of each [[array]]
    array_index: int = 0
    request_prompt: str = ""  # the request's prompt with this image's array items put in

    def record(self) -> dict[str, object]:
        """For the image's metadata ("resolved")."""
        out: dict[str, object] = {"styles_applied": list(self.styles)}
        if self.expansion:
            out["fooocus_v2"] = list(self.expansion)
        if self.array_items:
            out["array_items"], out["array_index"] = list(self.array_items), self.array_index
        return out


@dataclass(frozen=True)
class TextSources:
    """The user's folders a request's words come from (the wildcards_dir and styles_dir settings)."""

    wildcards: Path = Path("wildcards")
    styles: Path | None = styles.DEFAULT_FOLDER


def image_texts(studio: StudioContext, prompt: str, negative_prompt: str, style_names: tuple[str, ...],
                family: ImageFamily, seed: int, index: int, sources: TextSources) -> ImageTexts:
    """Image ``index`` (its array combination) of a request drawn with ``seed``."""
    picked = prompt_arrays.pick(prompt, index)
    text, prompt_notes = wildcards.expand(picked.prompt, sources.wildcards, seed)
    negative, negative_notes = wildcards.expand(negative_prompt, sources.wildcards, seed)
    notes = prompt_notes + negative_notes
    chosen = styles.for_image(style_names, seed, sources.styles)
    added: list[str] = []
    if chosen.expands:
        added, expansion_note = _expansion(studio, text, seed)
        notes += [expansion_note] if expansion_note else []
    text, negative = styles.apply(text, negative, chosen.names, sources.styles)
    if added:
        text = ", ".join(part for part in (text.rstrip(" ,"), ", ".join(added)) if part)
    if not family.prompt_weights and (prompt_syntax.has_weights(text) or prompt_syntax.has_weights(negative)):
        text, negative = prompt_syntax.plain(text), prompt_syntax.plain(negative)
        notes.append(f"Weights such as (word:1.3) are read by the CLIP encoders of SDXL and SD 1.5; "
                     f"{family.label}'s text encoder is given the words without them.")
    return ImageTexts(text, negative, tuple(notes), chosen.names, tuple(added), picked.items, picked.index, picked.prompt)


def _expansion(studio: StudioContext, text: str, seed: int) -> tuple[list[str], str]:
    """Fooocus V2's phrases for ``text`` with the image's seed, or none and why."""
    words = prompt_syntax.plain(text).strip()
    if not words:
        return [], "Fooocus V2 expands the prompt; with no prompt there is nothing to expand."
    if len(words) > fooocus_v2.MAX_TEXT_CHARS:
        return [], (f"Fooocus V2 was left out: GPT-2 continues prompts of up to {fooocus_v2.MAX_TEXT_CHARS:,} "
                    f"characters, and this one has {len(words):,}.")
    try:
        result = fooocus_v2.expand(studio, words, seed=seed % TEXT_SEEDS)
    except StudioError as exc:  # no GPT-2 here (offline), or a prompt it cannot take: draw without it
        return [], f"Fooocus V2 was left out: {exc}"
    return list(result.added), ""


def sources(studio: StudioContext) -> TextSources:
    settings = studio.settings
    return TextSources(Path(getattr(settings, "wildcards_dir", None) or "wildcards"),
                       Path(getattr(settings, "styles_dir", None) or styles.DEFAULT_FOLDER))
