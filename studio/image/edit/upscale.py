"""Upscale: tiled super-resolution, and Fooocus's three upscale modes.

- **Upscale (Fast 2×)**: super-resolution only, then exactly 2× the input's size.
- **Upscale (1.5×)** and **Upscale (2×)**: super-resolution to the target size, then a light
  img2img pass (denoise 0.382, Fooocus's number) that redraws fine detail with the Image
  tab's checkpoint. An output larger than the checkpoint's own resolution is refined in
  overlapping tiles of that resolution, blended like the super-resolution tiles.

Sizes: the output is the input's width and height times the factor, each rounded half up
(101 px at 1.5× gives 152). The model's own factor (×4, ×2) is applied as many times as
needed, then the picture is resized (Lanczos) to that size.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from studio import progress
from studio.errors import BadInput
from studio.fields import number_between
from studio.image.edit import images, tiling, upscaler, work
from studio.image.edit.results import EditResult
from studio.image.image_prompts import slots as image_prompt_slots
from studio.image.previews import PREVIEW_SIDE
from studio.progress import PREVIEW_SECONDS
from studio.replicated import model_key
from studio.tools import declare
from studio.tools.fields import declared

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from pathlib import Path

    from PIL import Image

    from studio.context import StudioContext
    from studio.image.gpu_seconds import Workload
    from studio.image.request import ImageResult
    from studio.progress import Task

REFINE_DENOISE = 0.382  # Fooocus's upscale refine
DEFAULT_OVERLAP = 32  # input pixels of context around each super-resolution tile
MAX_OVERLAP = 256
MIN_TILE = 16


@dataclass(frozen=True)
class Mode:
    name: str
    factor: float
    refine: bool


MODES = {m.name: m for m in (
    Mode("Upscale (Fast 2×)", 2.0, False),
    Mode("Upscale (1.5×)", 1.5, True),
    Mode("Upscale (2×)", 2.0, True),
)}
FAST_2X = "Upscale (Fast 2×)"
# Also accepted from scripts: "fast 2x", "1.5x", "2x".
_ALIASES = {"fast 2x": FAST_2X, "fast": FAST_2X, "1.5x": "Upscale (1.5×)", "2x": "Upscale (2×)"}


def mode(name: str) -> Mode:
    key = str(name or "").strip()
    key = _ALIASES.get(key.lower().replace("×", "x").replace("upscale", "").strip(" ()"), key)
    if key not in MODES:
        raise BadInput(f"Upscale mode {str(name)[:40]!r} is unknown. Pick one of: {', '.join(MODES)}.")
    return MODES[key]


def output_size(width: int, height: int, factor: float) -> tuple[int, int]:
    """The input size times ``factor``, each side rounded half up."""
    return int(math.floor(width * factor + 0.5)), int(math.floor(height * factor + 0.5))


@dataclass(frozen=True)
class UpscaleRequest:
    image: Any = declared(kind="picture", label="edit.image", doc="the picture to enlarge")
    mode: str = declared(FAST_2X, choices=tuple(MODES), choice_labels="edit.mode", aliases=_ALIASES,
                         label="edit.mode", info="edit.mode_info", hint="radio",
                         doc="'Upscale (Fast 2×)' enlarges only; 'Upscale (1.5×)' and 'Upscale (2×)' then redraw lightly")
    upscaler: str = declared("", choices=upscaler.choices, custom=True, label="edit.upscaler", info="edit.upscaler_info",
                             hint="dropdown", advanced=True, api="upscaler_model",
                             doc="'' = the default, a file in the upscalers folder, or owner/repo/file.pth")
    tile_size: int = declared(0, low=0, high=8192, label="edit.tile_size", hint="number", advanced=True, unit="pixels",
                              doc="input pixels a side; 0 = as large as the memory allows")
    tile_overlap: int = declared(DEFAULT_OVERLAP, low=0, high=MAX_OVERLAP, label="edit.tile_overlap", hint="number",
                                 advanced=True, unit="pixels")
    refine_denoise: float = declared(REFINE_DENOISE, low=images.DENOISE_RANGE[0], high=images.DENOISE_RANGE[1],
                                     step=0.001, label="edit.refine_denoise", advanced=True,
                                     doc="how much the 1.5× and 2× modes redraw (Fooocus's 0.382)")
    diffusion: work.Diffusion = declared(default_factory=work.Diffusion, kind="group")


def super_resolve(studio: StudioContext, image: Image.Image, factor: float, model_id: str = "", tile_size: int = 0,
                  overlap: int = DEFAULT_OVERLAP, task: Task | None = None) -> tuple[Image.Image, dict[str, Any]]:
    """``image`` (PIL) upscaled by ``factor`` with a spandrel model, in tiles; exact output size."""
    from PIL import Image

    target = output_size(image.width, image.height, factor)
    images.check_size(*target, "The upscaled image", images.MAX_UPSCALE_OUTPUT_PIXELS)
    overlap = int(number_between("Tile overlap", overlap, 0, MAX_OVERLAP, "pixels"))
    tile_size = int(number_between("Tile size", tile_size or 0, 0, 8192, "pixels"))
    if 0 < tile_size < MIN_TILE:
        raise BadInput(f"Tile size must be 0 (automatic) or at least {MIN_TILE} pixels.")
    with studio.cache.use(upscaler.spec(studio, model_id)) as model:
        check_intermediate(image.size, target, model.scale, model.name)  # also ends a ×1 model here
        tile = tile_size or model.auto_tile()
        pixels = np.asarray(image.convert("RGB"))
        info: dict[str, Any] = {"upscaler": model.name, "architecture": model.architecture,
                                "model_scale": model.scale, "tile_size": tile, "passes": 0, "tiles": 0}
        while pixels.shape[1] < target[0] or pixels.shape[0] < target[1]:
            info["passes"] += 1
            height, width = pixels.shape[:2]
            count = tiling.tile_count(width, height, tile, overlap)
            info["tiles"] += count
            info["overlap"] = tiling.describe(width, height, tile, overlap)["overlap"]
            label = (progress.label("upscale_pass", scale=model.scale, passes=info["passes"]) if info["passes"] > 1
                     else progress.label("upscale", scale=model.scale))
            on_tile = _tile_progress(task, label) if task is not None else None
            if task is not None:
                task.step(0, count, progress.label("tile", label=label, index=1, count=count))
            blended = studio.cache.run(lambda: tiling.run_tiled(pixels, model, model.scale, tile, overlap, on_tile))
            pixels = tiling.to_uint8(blended)
            del blended
        result = Image.fromarray(pixels)
    if result.size != target:
        result = result.resize(target, Image.Resampling.LANCZOS)
    return result, info


def passes_size(size: tuple[int, int], target: tuple[int, int], scale: int) -> tuple[int, int]:
    """The size after as many ×``scale`` passes as it takes to reach ``target`` (before the
    final resize down to it)."""
    if scale < 2:
        raise BadInput(f"An upscaler of ×{scale} does not enlarge the picture: pick one of ×2 or more.")
    width, height = size
    while width < target[0] or height < target[1]:
        width, height = width * scale, height * scale
    return width, height


def check_intermediate(size: tuple[int, int], target: tuple[int, int], scale: int, name: str) -> None:
    """Refuse, before any work, when the model's own factor would build a picture over the
    upscale limit on its way to ``target`` (a ×4 model asked for 2× a 4096² picture first
    makes 16384², 3 GB of floats), rather than shrinking the input first and losing detail."""
    width, height = passes_size(size, target, scale)
    limit = images.MAX_UPSCALE_OUTPUT_PIXELS
    if width * height > limit:
        raise BadInput(
            f"{name} enlarges ×{scale}: to make {target[0]}×{target[1]} it would first make a {width}×{height} picture "
            f"({width * height / 1e6:.1f} megapixels), over the {limit / 1e6:.1f} megapixel limit here "
            f"(e.g. {int(limit ** 0.5)}×{int(limit ** 0.5)}). Pick a ×2 upscaler (e.g. RealESRGAN_x2plus) or use "
            "a smaller picture."
        )


def _tile_progress(task: Task, label: progress.Label):
    last = [time.monotonic()]

    def on_tile(done: int, total: int, so_far: np.ndarray) -> None:
        preview = None
        now = time.monotonic()
        if done < total and now - last[0] >= PREVIEW_SECONDS:
            last[0] = now
            preview = _preview(so_far)
        task.step(done, total, progress.label("tile", label=label, index=min(done + 1, total), count=total), preview)

    return on_tile


def _preview(values: np.ndarray) -> Image.Image:
    from PIL import Image

    step = max(1, math.ceil(max(values.shape[:2]) / PREVIEW_SIDE))
    small = np.clip(values[::step, ::step] * 255.0, 0, 255).astype(np.uint8)
    return Image.fromarray(small)


def refine(studio: StudioContext, image: Image.Image, diffusion: work.Diffusion, denoise: float, seed: int,
           task: Task | None = None, image_prompts: tuple = ()
           ) -> tuple[Image.Image, dict[str, Any], ImageResult | None]:
    """A low-denoise img2img pass over ``image``, in tiles of the checkpoint's resolution
    when it is larger; the size is kept exactly. ``image_prompts``: checked slots steering it (a
    PyraCanny / CPDS map of the picture steers each tile with its own part). Returns (image,
    info, last ImageResult)."""
    from PIL import Image

    side, multiple = work.model_side(studio, diffusion.checkpoint)
    overlap = side // 8
    pixels = np.asarray(image.convert("RGB"))
    height, width = pixels.shape[:2]
    single = width * height <= (side * 1.25) ** 2 and max(width, height) <= 2 * side
    tile = max(width, height) if single else side - 2 * overlap
    boxes = [t.read_box for t in tiling.plan(width, height, tile, overlap)]  # run_tiled's order
    total = len(boxes)
    state: dict[str, Any] = {"done": 0, "steps": 0, "last": None}

    def process(window: np.ndarray) -> np.ndarray:
        state["done"] += 1
        h, w = window.shape[:2]
        slots = image_prompt_slots.cut_to(image_prompts, (width, height), boxes[state["done"] - 1])
        padded = np.pad(window, ((0, -h % multiple), (0, -w % multiple), (0, 0)), mode="edge")
        label = progress.label("refine")
        if total > 1:
            label = progress.label("tile", label=label, index=state["done"], count=total)
        request = replace(diffusion, image_prompts=slots).request("img2img", Image.fromarray(padded), denoise, seed)
        result = work.run(studio, request, task, label)
        state["steps"] += result.steps_run
        state["last"] = result
        return np.asarray(result.image.convert("RGB"), dtype=np.float32)[:h, :w]

    blended = tiling.run_tiled(pixels, process, 1, tile, overlap)
    out = Image.fromarray(tiling.to_uint8(blended, top=255.0))
    return out, {"refine_tiles": total, "refine_tile_size": tile, "refine_overlap": overlap if total > 1 else 0,
                 "steps_run": state["steps"]}, state["last"]


def check_refine_size(size: tuple[int, int], chosen: Mode) -> None:
    """The refine redraws the whole upscaled picture with the image model: it is held to the
    diffusion edits' limit (``images.MAX_EDIT_PIXELS``), as Vary, Inpaint and Outpaint are."""
    width, height = output_size(*size, chosen.factor)
    limit = images.MAX_EDIT_PIXELS
    if width * height > limit:
        raise BadInput(
            f"{chosen.name} would redraw a {width}×{height} picture ({width * height / 1e6:.1f} megapixels); the "
            f"redraw is limited to {limit / 1e6:.1f} megapixels (e.g. {int(limit ** 0.5)}×{int(limit ** 0.5)}). "
            "Use Upscale (Fast 2×), which does not redraw, or a smaller picture."
        )


def _route(arguments: dict[str, Any]) -> str:
    """A redraw goes where its checkpoint is; a plain upscale where its upscaler is."""
    request = arguments["request"]
    if mode(request.mode).refine:
        return work.route(arguments)
    return model_key("upscaler", request.upscaler)


def upscale(studio: StudioContext, request: UpscaleRequest, folder: Path | None = None,
            task: Task | None = None) -> EditResult:
    """The Upscale tool end to end: one saved result."""
    chosen = mode(request.mode)
    image = images.open_image(request.image, "The image to upscale")
    denoise = images.denoise_of(request.refine_denoise, "Refine denoise")
    ready = None
    if chosen.refine:  # everything the refine needs is checked before the long super-resolution
        check_refine_size(image.size, chosen)
        ready = work.prepare(studio, request.diffusion, denoise, "Refine denoise")
    started = time.perf_counter()
    big, info = super_resolve(studio, image, chosen.factor, request.upscaler, request.tile_size,
                              request.tile_overlap, task)
    settings: dict[str, Any] = {"mode": chosen.name, "factor": chosen.factor, "input_size": f"{image.width}x{image.height}",
                                **info}
    notes = [f"{image.width}×{image.height} → {big.width}×{big.height} with {info['upscaler']} "
             f"({info['architecture']} ×{info['model_scale']}, {info['tiles']} tile(s))."]
    seed, steps_run, diffusion = None, 0, None
    if ready is None and request.diffusion.slots():
        notes.append(f"{chosen.name} only enlarges: the image prompts steer a redraw, so they were not used.")
    if ready is not None:
        seed = ready.seed
        big, refine_info, last = refine(studio, big, request.diffusion, denoise, seed, task, ready.image_prompts)
        settings.update(refine_denoise=denoise, **refine_info)
        steps_run = refine_info["steps_run"]
        diffusion = last.parameters if last is not None else None
        notes.append(f"Refined at denoise {denoise:g} in {refine_info['refine_tiles']} tile(s), "
                     f"{steps_run} step(s) in all.")
        if last is not None:  # how the image model ran (a memory plan when it was offloaded)
            notes += [note for note in last.notes if note.startswith("Memory plan")]
    settings["seconds"] = round(time.perf_counter() - started, 3)
    result = EditResult(big, "upscale", settings, seed=seed, steps_run=steps_run, diffusion=diffusion, notes=notes)
    return result.save(folder)


def _workload(studio: StudioContext, request: UpscaleRequest) -> Workload:
    from studio.image import gpu_seconds

    chosen = mode(request.mode)
    return gpu_seconds.edit_load(studio, request.diffusion, request.image, chosen.factor, chosen.refine)


TOOL = declare(
    "upscale", UpscaleRequest, upscale, _workload, _route, order=10, again=True,
    labels={"upscale": "upscaling ×{scale}", "upscale_pass": "upscaling ×{scale}, pass {passes}",
            "refine": "refining"},
    summary="Enlarge `image`: super-resolution (Real-ESRGAN and any spandrel model), then in the 1.5× and 2× "
            "modes a light redraw at refine_denoise with the Image tab's model. Returns the saved PNG.",
)
upscale = TOOL.run  # noqa: F811 - the same function, which a cluster's replica may run (studio.replicated)
