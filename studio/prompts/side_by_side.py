"""Teach it: the same seed drawn twice, from the original prompt and from its English
expansion, so a class sees what the expansion changes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.errors import BadInput
from studio.image.generate import generate_images
from studio.image.request import ImageRequest, ImageResult, resolve_seed

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from studio.context import StudioContext

SIDE = 512  # small and quick: a comparison, not a final picture


@dataclass
class SideBySide:
    original: ImageResult
    expanded: ImageResult
    seed: int


def side_by_side(
    studio: StudioContext, original: str, expanded: str, negative: str = "", seed: Any = -1,
    checkpoint: str = "", folder: Path | None = None, width: int = SIDE, height: int = SIDE,
    steps: int | None = None,
) -> SideBySide:
    """Two images with one seed: ``original`` and ``expanded`` as prompts (same negative)."""
    if not str(original or "").strip() or not str(expanded or "").strip():
        raise BadInput("Expand a prompt first: the comparison needs the original and the English prompt.")
    seed = resolve_seed(seed)  # drawn once, so both images start from the same noise
    common = dict(negative_prompt=negative, seed=seed, checkpoint=checkpoint, width=width, height=height, steps=steps)
    first = generate_images(studio, ImageRequest(prompt=original, **common), folder)[0]
    second = generate_images(studio, ImageRequest(prompt=expanded, **common), folder)[0]
    return SideBySide(first, second, seed)
