"""Image prompts (Fooocus's "Input Image -> Image Prompt"): pictures that steer a generation.

``slots`` (what a slot is, its defaults and checks), ``preprocess`` (PyraCanny and CPDS maps,
the encoder's view, the face crop), ``models`` (cache entries and loaders), ``apply`` (inside
one generation), ``twins`` (the tiny profile's models). ``preview(studio, image, type)`` is
what the tab and ``/image_prompt_preview`` show: the picture the model will be given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.image.image_prompts.slots import DEFAULTS, MAX_SLOTS, TYPES, ImagePromptSlot, check_slot, check_slots
from studio.replicated import model_key, replicated

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from PIL import Image

    from studio.context import StudioContext

__all__ = ["DEFAULTS", "MAX_SLOTS", "TYPES", "ImagePromptSlot", "check_slot", "check_slots", "preview"]


@replicated("image_prompt_preview", lambda arguments: model_key("image_prompt", arguments["kind"]))
def preview(studio: StudioContext, image: Any, kind: str) -> Image.Image:
    """The map (PyraCanny, CPDS, at the picture's size), the encoder's square view (ImagePrompt)
    or the largest face's crop (FaceSwap) of ``image``, as a PIL image."""
    from PIL import Image

    from studio.image.image_prompts import preprocess

    slot = check_slot({"image": image, "type": kind}, 1)
    return Image.fromarray(preprocess.preview(studio, slot), "RGB")
