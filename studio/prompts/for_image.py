"""What the Image tab calls before generating: expand a non-English prompt into English for a
family whose text encoder reads English only (SDXL's CLIP, FLUX's T5), leave Z-Image's prompt
alone (its Qwen encoder reads Chinese as it is). The returned notes say what happened, for the
result's metadata."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from studio.errors import StudioError
from studio.image import checkpoints
from studio.image.families import FAMILIES
from studio.image.request import ImageRequest
from studio.prompts.expand import ExpandOptions, expand
from studio.prompts.language import detect
from studio.text.remote import RemoteEndpoint

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from studio.context import StudioContext

def should_expand(prompt: str, family_name: str) -> bool:
    """The toggle's default: on for a family that reads English only, when the prompt is not English."""
    family = FAMILIES.get(str(family_name or "").strip().lower())
    if family is None or not family.reads_english_only:
        return False
    return detect(prompt or "").kind in ("chinese", "mixed", "other")


def expand_for_image(
    studio: StudioContext, prompt: str, family_name: str, negative_prompt: str = "",
    options: ExpandOptions | None = None, endpoint: RemoteEndpoint | None = None,
) -> tuple[str, str, list[str]]:
    """(prompt, negative prompt, notes) to generate with. The user's own negative prompt is
    kept; an empty one gets the model's suggestion. Any failure leaves the prompt as it was."""
    if not should_expand(prompt, family_name):
        return prompt, negative_prompt, []
    target = FAMILIES[family_name.strip().lower()].expansion_target  # tags for SDXL, sentences for FLUX
    options = replace(options or ExpandOptions(), variants=1, target=target, keep_english=True)
    try:
        result = expand(studio, prompt, options, endpoint)
    except StudioError as exc:  # e.g. a prompt longer than an idea: draw it as it is
        return prompt, negative_prompt, [f"Not expanded: {exc}"]
    best = result.best
    if not best.expanded:
        return prompt, negative_prompt, best.notes
    notes = [f"Expanded into English from {result.language.kind} by the LLM: {best.prompt}"] + best.notes
    return best.prompt, negative_prompt or best.negative, notes


@dataclass(frozen=True)
class PromptExpanded:
    """What a generation's expansion did, as the first event of its run (plain, picklable):
    the prompt it draws with, the user's own words, and the notes."""

    prompt: str
    original_prompt: str
    notes: tuple[str, ...]


def expand_request(studio: StudioContext, request: ImageRequest, wanted: bool) -> tuple[ImageRequest, PromptExpanded]:
    """The request with its prompt expanded into English when asked (the original is kept in the
    saved parameters); never blocks a generation: a failure leaves the prompt as it is."""
    if not wanted or not request.prompt.strip():
        return request, PromptExpanded(request.prompt, "", ())
    family = checkpoints.family_hint(studio, request.checkpoint)
    english, negative, notes = expand_for_image(studio, request.prompt, family.name if family else "sdxl",
                                                request.negative_prompt)
    if english == request.prompt:
        return request, PromptExpanded(request.prompt, "", tuple(notes))
    expanded = replace(request, prompt=english, negative_prompt=negative, original_prompt=request.prompt)
    return expanded, PromptExpanded(english, request.prompt, tuple(notes))
