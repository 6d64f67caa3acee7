"""Performance presets and aspect ratios, Fooocus-style.

A preset sets the steps, the CFG, the sampler and, for the distilled ones, the LoRA that makes
few steps work. Any of them can be overridden under Advanced.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from math import gcd
from typing import TYPE_CHECKING

from studio.errors import BadInput

if TYPE_CHECKING:
    from studio.image.families.base import ImageFamily


@dataclass(frozen=True)
class Performance:
    name: str
    steps: int
    cfg: float
    scheduler: str
    lora: str | None = None  # catalog entry of the speed-up LoRA
    description: str = ""

    @property
    def distilled(self) -> bool:
        """A few-step LoRA preset: it runs without the guidance hooks (sharpness, adaptive CFG,
        ADM), as Fooocus's LCM and Lightning modes do."""
        return self.lora is not None


PERFORMANCES: dict[str, Performance] = {
    p.name: p
    for p in (
        Performance("Quality", 60, 7.0, "DPM++ 2M SDE Karras", description="60 steps: the most detail, twice the time of Speed."),
        Performance("Speed", 30, 7.0, "DPM++ 2M Karras", description="30 steps: the everyday choice."),
        Performance("Extreme Speed", 8, 1.0, "LCM", "lcm_lora", "8 steps with the LCM LoRA; CFG 1, so no negative prompt."),
        Performance("Lightning", 4, 1.0, "Euler (trailing)", "lightning_lora", "4 steps with the SDXL-Lightning LoRA; CFG 1."),
    )
}
DEFAULT_PERFORMANCE = "Speed"

# SDXL was trained on buckets of about one megapixel; these are its usual sizes.
ASPECT_RATIOS: tuple[tuple[int, int], ...] = (
    (1024, 1024), (1152, 896), (896, 1152), (1216, 832), (832, 1216), (1344, 768), (768, 1344),
    (1536, 640), (640, 1536), (1088, 960), (960, 1088), (1472, 704), (704, 1472),
)
DEFAULT_ASPECT = "1152×896"


def aspect_label(width: int, height: int) -> str:
    return f"{width}×{height}"


def aspect_choices() -> list[tuple[str, str]]:
    """(shown text with the ratio, value) for a dropdown."""
    out = []
    for w, h in ASPECT_RATIOS:
        g = gcd(w, h)
        out.append((f"{w}×{h} ({w // g}:{h // g})", aspect_label(w, h)))
    return out


def parse_aspect(text: str) -> tuple[int, int]:
    """'1152×896', '1152x896' or '1152*896 (9:7)' -> (1152, 896), from the list only."""
    cleaned = str(text or "").split("(")[0].strip().lower().replace("x", "×").replace("*", "×").replace(" ", "")
    for w, h in ASPECT_RATIOS:
        if cleaned == aspect_label(w, h):
            return w, h
    raise BadInput(
        f"Aspect ratio {str(text)[:30]!r} is not offered. Use one of: "
        + ", ".join(aspect_label(w, h) for w, h in ASPECT_RATIOS)
        + " (or set width and height under Advanced)."
    )


def followed(family: ImageFamily | None, performance_name: str, steps: int | None = None, cfg: float | None = None,
             scheduler: str | None = None) -> Performance:
    """The one rule for a request's steps, CFG and sampler: empty fields follow the performance
    preset (a family that uses presets: SDXL) or the family's own defaults. Generation and the
    edits (studio.image.generate.resolve) and the GPU estimate (studio.image.gpu_seconds) all ask it;
    the result keeps the preset's name and speed-up LoRA."""
    if family is None or family.uses("performance"):
        base = performance(performance_name)
    else:
        defaults = family.defaults
        base = Performance(family.name, defaults.steps, defaults.cfg, defaults.scheduler)
    return replace(base, steps=steps or base.steps, cfg=base.cfg if cfg is None else cfg,
                   scheduler=scheduler or base.scheduler)


def performance(name: str) -> Performance:
    try:
        return PERFORMANCES[str(name)]
    except KeyError:
        raise BadInput(f"Performance {str(name)[:30]!r} is unknown; pick one of: {', '.join(PERFORMANCES)}.") from None
