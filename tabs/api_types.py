"""The API's fixed choices, as types: Gradio reads an endpoint's type hints, so a ``Literal``
here is listed as an enum by ``view_api()``, the API page and gradio_client. Each list comes
from the module that checks it, so the two cannot drift. Choices that change at run time
(checkpoints, LoRAs, styles, upscalers, models) are answered by ``/choices`` instead
(tabs/choices.py); scripts may also use the aliases the checks accept ("2x", "subtle").

No ``from __future__ import annotations`` here: the TypedDict's field types must be real types
for Gradio to describe them.
"""

from collections.abc import Iterable
from typing import Any, Literal, TypedDict

from gradio import FileData

from studio.image import presets
from studio.image.families import FAMILIES
from studio.image.grid import KINDS
from studio.image.image_prompts import slots
from studio.text.sampling import DECODING
from studio.train.config import TASKS


def choice(values: Iterable[str]) -> Any:
    """``Literal`` of these values, in order (a dict gives its keys)."""
    return Literal[tuple(values)]


Performance = choice(presets.PERFORMANCES)
AspectRatio = choice(presets.aspect_label(w, h) for w, h in presets.ASPECT_RATIOS)
# "" follows the preset (SDXL) or the family's default; each family takes its own (it says which).
Scheduler = choice(dict.fromkeys(["", *(name for family in FAMILIES.values() for name in family.schedulers)]))
ImagePromptType = choice(slots.TYPES)
# The edit tools', face swap's, Describe's and Expand's choices come from their declarations (tabs.tools).
GridAxis = choice(["", *KINDS])
Decoding = choice(DECODING)
TextMode = Literal["chat", "completion"]
TextBackend = Literal["local", "openai"]
TokenDetail = Literal["compact", "full"]
TrainTask = choice(TASKS)


class ImagePromptSlot(TypedDict, total=False):
    """One image prompt: weight and stop_at left out = the type's defaults."""

    image: FileData
    type: ImagePromptType
    weight: float
    stop_at: float
