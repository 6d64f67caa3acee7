"""Outpaint: extend a picture on any of its four sides, then extend the result again.

Margins are given in pixels or in percent of the side they extend (left and right of the
width, top and bottom of the height). Each margin is rounded **up** to a multiple of the
checkpoint's size multiple (8 px for SDXL and SD 1.5, 16 for Z-Image), so the canvas fits the
model's latent grid; the result says when a margin was rounded.

The new area starts as the picture's edge pixels carried outwards (edge fill) and blurred.
Why: edge fill keeps the colours and tones the picture has at its border, so the model
continues from them and the seam has no tone shift; the blur removes the streaks edge fill
draws, which the model would otherwise copy. Noise would give it nothing to continue from,
and a flat colour a visible step.

The whole canvas is redrawn by the inpaint pipeline at the checkpoint's resolution (denoise
1.0 by default, as in Fooocus), with the new area as the mask. Then:

- the original pixels are put back unchanged (the original region is byte-identical);
- in the new area, a linear ramp ``seam_feather`` pixels wide goes from the edge fill (which
  equals the neighbouring original pixel) at the seam to the model's pixels, so there is no
  line and no step in tone. Each side's ramp is at most its margin wide, and in the corners
  the two ramps combine by distance.

The prompt is optional: left empty, the model continues the picture on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from studio import progress
from studio.errors import BadInput
from studio.fields import number_between
from studio.image.edit import images, masks, work
from studio.image.edit.results import EditResult
from studio.image.image_prompts import slots as image_prompt_slots
from studio.tools import declare
from studio.tools.fields import declared

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from pathlib import Path

    from studio.context import StudioContext
    from studio.image.gpu_seconds import Workload
    from studio.progress import Task

SIDES = ("left", "right", "top", "bottom")
UNITS = ("px", "%")
MAX_PERCENT = 200.0
DEFAULT_FEATHER = 32
MAX_FEATHER = masks.MAX_FEATHER  # px, as the inpaint mask's
DEFAULT_DENOISE = 1.0
MAX_MARGIN_PX = 8192  # no side grows by more (and the result keeps to the edit tools' size limit)
FILL_BLUR_SHARE = 0.25  # blur radius of the new area's start, as a share of the largest margin


@dataclass(frozen=True)
class Margins:
    left: int = 0
    right: int = 0
    top: int = 0
    bottom: int = 0

    def any(self) -> bool:
        return any((self.left, self.right, self.top, self.bottom))

    def as_dict(self) -> dict[str, int]:
        return {s: getattr(self, s) for s in SIDES}


def _side(name: str) -> Any:
    return declared(0.0, low=0, high=MAX_MARGIN_PX, label=f"edit.{name}", hint="number",
                    doc=f"how much to add on the {name}, in `unit`")


@dataclass(frozen=True)
class OutpaintRequest:
    image: Any = declared(kind="picture", label="edit.image", doc="the picture to extend")
    left: float = _side("left")
    right: float = _side("right")
    top: float = _side("top")
    bottom: float = _side("bottom")
    unit: str = declared("px", choices=UNITS, aliases={"pixels": "px", "percent": "%"}, label="edit.unit",
                         info="edit.unit_info", hint="radio", doc="'px', or '%' of the side each extends")
    seam_feather: int = declared(DEFAULT_FEATHER, low=0, high=MAX_FEATHER, label="edit.seam_feather", unit="pixels")
    denoise: float = declared(DEFAULT_DENOISE, low=images.DENOISE_RANGE[0], high=images.DENOISE_RANGE[1], step=0.01,
                              label="edit.outpaint_denoise")
    diffusion: work.Diffusion = declared(default_factory=work.Diffusion, kind="group")


def margins_for(width: int, height: int, request: OutpaintRequest, multiple: int) -> tuple[Margins, list[str]]:
    """The requested margins in pixels, each rounded up to ``multiple``; notes on rounding."""
    unit = str(request.unit or "px").strip().lower().replace("percent", "%").replace("pixels", "px")
    if unit not in UNITS:
        raise BadInput(f"The margin unit must be px or %, not {str(request.unit)[:20]!r}.")
    values, notes = {}, []
    for side in SIDES:
        raw = getattr(request, side)
        try:
            amount = float(raw or 0)
        except (TypeError, ValueError):
            raise BadInput(f"The {side} margin must be a number, not {str(raw)[:30]!r}.") from None
        if not math.isfinite(amount):
            raise BadInput(f"The {side} margin must be a finite number of {'percent' if unit == '%' else 'pixels'}, "
                           f"not {str(raw)[:30]!r}.")
        if amount < 0:
            raise BadInput(f"The {side} margin cannot be negative ({amount:g}).")
        length = width if side in ("left", "right") else height
        if unit == "%":
            if amount > MAX_PERCENT:
                raise BadInput(f"The {side} margin can be at most {MAX_PERCENT:g}% of the picture, not {amount:g}%.")
            exact = length * amount / 100  # the pixels asked for, before any rounding
        else:
            exact = amount
        pixels = math.ceil(exact - 1e-9)
        if unit != "%" and pixels > MAX_PERCENT / 100 * length + multiple:
            raise BadInput(f"The {side} margin can be at most {MAX_PERCENT:g}% of the picture "
                           f"({int(MAX_PERCENT / 100 * length)} px), not {pixels} px.")
        rounded = -(-pixels // multiple) * multiple
        if abs(rounded - exact) > 1e-9:  # pixels against pixels, in either unit
            asked = f"{amount:g}% ({exact:g} px)" if unit == "%" else f"{amount:g} px"
            notes.append(f"{side.capitalize()}: {asked} → {rounded} px (rounded up to a multiple of {multiple} px, "
                         "what the model's latent grid needs).")
        values[side] = rounded
    margins = Margins(**values)
    if not margins.any():
        raise BadInput("All four margins are 0: give at least one side to extend (e.g. right = 256 px or 30%).",
                       key="errors.outpaint_no_margin")
    return margins, notes


def edge_fill(original: np.ndarray, margins: Margins) -> np.ndarray:
    """The canvas with the original in place and its edge pixels carried outwards."""
    return np.pad(original, ((margins.top, margins.bottom), (margins.left, margins.right), (0, 0)), mode="edge")


def initial_canvas(original: np.ndarray, margins: Margins, size: tuple[int, int] | None = None) -> np.ndarray:
    """What the model starts from: edge fill at ``size`` (the work size; default the canvas's
    own), blurred in the new area only. The blur runs at that size, so a large canvas costs no
    full-size blur; its radius is a quarter of the largest margin at that size."""
    import cv2
    from PIL import Image

    filled = edge_fill(original, margins)
    canvas = (filled.shape[1], filled.shape[0])
    size = canvas if size is None else tuple(size)
    scale = 1.0
    if size != canvas:
        scale = min(size[0] / canvas[0], size[1] / canvas[1])
        filled = np.asarray(Image.fromarray(filled).resize(size, Image.Resampling.LANCZOS))
    new = new_area_at(original.shape[1], original.shape[0], margins, size)
    radius = max(1, int(max(margins.as_dict().values()) * scale * FILL_BLUR_SHARE))
    kernel = 2 * radius + 1
    blurred = cv2.GaussianBlur(filled, (kernel, kernel), sigmaX=radius / 2.0, borderType=cv2.BORDER_REPLICATE)
    out = filled.copy()
    out[new] = blurred[new]
    return out


def new_area_at(width: int, height: int, margins: Margins, size: tuple[int, int]) -> np.ndarray:
    """``new_area`` scaled (nearest) to ``size``: the mask the model is given at the work size."""
    from PIL import Image

    new = new_area(width, height, margins)
    if tuple(size) == (new.shape[1], new.shape[0]):
        return new
    return np.asarray(Image.fromarray(new.astype(np.uint8) * 255).resize(tuple(size), Image.Resampling.NEAREST)) > 127


def new_area(width: int, height: int, margins: Margins) -> np.ndarray:
    """Boolean canvas mask: True outside the original's rectangle."""
    mask = np.ones((height + margins.top + margins.bottom, width + margins.left + margins.right), dtype=bool)
    mask[margins.top : margins.top + height, margins.left : margins.left + width] = False
    return mask


def seam_weights(width: int, height: int, margins: Margins, feather: int) -> np.ndarray:
    """Weight of the edge fill in the new area: 1 at the seam, falling linearly to 0 at
    ``feather`` pixels (at most the side's margin) from the original; 1 on the original."""
    canvas_h = height + margins.top + margins.bottom
    canvas_w = width + margins.left + margins.right
    xs = np.arange(canvas_w, dtype=np.float32) + 0.5  # pixel centres
    ys = np.arange(canvas_h, dtype=np.float32) + 0.5
    x0, x1 = margins.left, margins.left + width
    y0, y1 = margins.top, margins.top + height

    def along(centres, start, end, before, after):
        # distance outside [start, end], divided by that side's ramp width
        d = np.zeros_like(centres)
        fb, fa = max(1, min(feather, before)), max(1, min(feather, after))
        d = np.where(centres < start, (start - centres) / fb, d)
        d = np.where(centres > end, (centres - end) / fa, d)
        return d

    u = along(xs, x0, x1, margins.left, margins.right)[None, :]
    v = along(ys, y0, y1, margins.top, margins.bottom)[:, None]
    return np.clip(1.0 - np.sqrt(u * u + v * v), 0.0, 1.0).astype(np.float32)


def compose(original: np.ndarray, generated: np.ndarray, margins: Margins, feather: int) -> np.ndarray:
    """The final canvas: the original's bytes in place, the seam ramp from the edge fill to
    ``generated`` (canvas-sized) in the new area."""
    height, width = original.shape[:2]
    w = seam_weights(width, height, margins, feather)[:, :, None]
    fill = edge_fill(original, margins).astype(np.float32)
    mixed = fill * w + generated.astype(np.float32) * (1.0 - w)
    out = np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
    out[margins.top : margins.top + height, margins.left : margins.left + width] = original
    return out


def outpaint(studio: StudioContext, request: OutpaintRequest, folder: Path | None = None,
             task: Task | None = None) -> EditResult:
    from PIL import Image

    image = images.open_image(request.image, "The image to extend")
    diffusion = request.diffusion
    feather = int(number_between("Seam feather", request.seam_feather, 0, MAX_FEATHER, "pixels"))
    denoise = images.denoise_of(request.denoise)
    ready = work.prepare(studio, diffusion, denoise, task="inpaint")
    side, multiple = ready.side, ready.multiple
    margins, notes = margins_for(image.width, image.height, request, multiple)
    canvas_w = image.width + margins.left + margins.right
    canvas_h = image.height + margins.top + margins.bottom
    images.check_size(canvas_w, canvas_h, "The extended picture")
    original = np.asarray(image)
    work_w, work_h = work.fit_area(canvas_w, canvas_h, side, multiple)
    start = initial_canvas(original, margins, (work_w, work_h))
    mask = new_area_at(image.width, image.height, margins, (work_w, work_h))
    # A PyraCanny / CPDS map of the picture steers the canvas where the picture sits.
    steering = replace(diffusion, image_prompts=image_prompt_slots.placed_in(
        ready.image_prompts, image.size, (margins.left, margins.top, margins.right, margins.bottom)))
    request_image = steering.request("inpaint", Image.fromarray(start), denoise, ready.seed,
                                     mask=Image.fromarray(mask.astype(np.uint8) * 255))
    made = work.run(studio, request_image, task, progress.label("outpaint"))
    generated = np.asarray(made.image.convert("RGB").resize((canvas_w, canvas_h), Image.Resampling.LANCZOS))
    out = compose(original, generated, margins, feather)
    notes.insert(0, f"{image.width}×{image.height} → {canvas_w}×{canvas_h} (left {margins.left}, right {margins.right}, "
                    f"top {margins.top}, bottom {margins.bottom} px), drawn at {work_w}×{work_h}, "
                    f"{made.steps_run} step(s); the original pixels are unchanged.")
    settings = {**margins.as_dict(), "unit": request.unit, "asked": {s: getattr(request, s) for s in SIDES},
                "seam_feather": feather, "denoise": denoise, "input_size": f"{image.width}x{image.height}",
                "work_size": f"{work_w}x{work_h}"}
    result = EditResult(Image.fromarray(out), "outpaint", settings, seed=made.seed, steps_run=made.steps_run,
                        diffusion=made.parameters, notes=notes + list(made.notes))
    return result.save(folder)


def _workload(studio: StudioContext, request: OutpaintRequest) -> Workload:
    from studio.image import gpu_seconds

    sides = tuple(getattr(request, side) for side in SIDES)
    return gpu_seconds.outpaint_load(studio, request.diffusion, request.image, sides, request.unit)


TOOL = declare(
    "outpaint", OutpaintRequest, outpaint, _workload, work.route, order=40, again=True,
    labels={"outpaint": "outpainting"},
    summary="Extend `image` by left / right / top / bottom, in unit 'px' or '%' of that side, each rounded up to "
            "a multiple of 8 px (16 for Z-Image). The prompt is optional. The original pixels are kept byte for "
            "byte; the result can be sent back in to extend again. Returns the saved PNG.",
)
outpaint = TOOL.run  # noqa: F811 - the same function, which a cluster's replica may run (studio.replicated)
