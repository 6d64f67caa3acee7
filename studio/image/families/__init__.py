"""The image model families, and which one a checkpoint belongs to.

A new family is one new module with an ``ImageFamily`` and one line in ``FAMILIES``.
"""

from __future__ import annotations

import json
from pathlib import Path

from studio.errors import BadInput
from studio.image.families.base import ImageFamily
from studio.image.families.sdxl import SD15, SDXL
from studio.image.families.zimage import ZIMAGE

FAMILIES: dict[str, ImageFamily] = {f.name: f for f in (SDXL, ZIMAGE, SD15)}

# diffusers pipeline class in model_index.json -> family
_BY_PIPELINE_CLASS = {
    cls: family for family in FAMILIES.values() for cls in family.pipeline_classes.values()
}
# A key only that family's single-file checkpoints hold (original, non-diffusers layout).
_SINGLE_FILE_MARKERS = (
    ("conditioner.embedders.1.model.", SDXL),
    ("cap_embedder.", ZIMAGE),
    ("model.diffusion_model.cap_embedder.", ZIMAGE),
    ("cond_stage_model.", SD15),
)


def family(name: str) -> ImageFamily:
    try:
        return FAMILIES[name]
    except KeyError:
        raise BadInput(f"Unknown model family {name!r}; known: {', '.join(FAMILIES)}.") from None


def from_model_index(path: Path) -> ImageFamily:
    """The family of a diffusers pipeline folder, from its model_index.json."""
    try:
        class_name = json.loads(Path(path).read_text(encoding="utf-8")).get("_class_name", "")
    except (OSError, ValueError) as exc:
        raise BadInput(f"{Path(path).parent.name}: model_index.json cannot be read ({exc}).") from None
    found = _BY_PIPELINE_CLASS.get(class_name)
    if found is None:
        raise BadInput(
            f"{Path(path).parent.name} is a {class_name or 'unknown'} pipeline; the Image tab runs "
            f"{', '.join(f.label for f in FAMILIES.values())}."
        )
    return found


def from_single_file_keys(keys: list[str], name: str) -> ImageFamily:
    for marker, found in _SINGLE_FILE_MARKERS:
        if any(key.startswith(marker) for key in keys):
            return found
    raise BadInput(
        f"{name} does not look like an SDXL, SD 1.5 or Z-Image checkpoint (none of their weight names "
        "were found). Is it a LoRA? Put LoRAs in the loras folder."
    )
