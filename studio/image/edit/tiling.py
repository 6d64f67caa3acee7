"""Tiles with overlap and seamless blending, for work on images larger than a model (or the
GPU) takes at once: super-resolution tiles, and the tiled refine of a large upscale.

The image is cut into a grid of *cores* of nearly equal size that cover it exactly. Each
tile is processed on its core widened by ``overlap`` pixels of context on every side. In the
result, a tile's weight is 1 inside its core and ramps linearly to 0 across a band of width
``overlap`` centred on each core edge that borders another tile; the two ramps that meet in a
band add up to exactly 1, so no weight map has to be kept and every output pixel is a convex
mix of at most four tiles. The ramps sit half an overlap inside the context, so the pixels a
tile contributes were computed with at least half an overlap of real neighbours around them.

Memory: only one tile is ever on the device; the output is accumulated in one float32 array
in RAM (12 bytes a pixel).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np


@dataclass(frozen=True)
class Span:
    """One tile along one axis, in input pixels: its core and the window read around it."""

    core_start: int
    core_end: int
    read_start: int
    read_end: int


@dataclass(frozen=True)
class Tile:
    rows: Span
    cols: Span

    @property
    def read_box(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) of the window read, in input pixels."""
        return self.cols.read_start, self.rows.read_start, self.cols.read_end, self.rows.read_end


def spans(length: int, tile: int, overlap: int) -> list[Span]:
    """Cores of nearly equal size covering ``length``; each read with ``overlap`` of context."""
    count = max(1, math.ceil(length / max(1, tile)))
    edges = [round(i * length / count) for i in range(count + 1)]
    return [
        Span(a, b, max(0, a - overlap), min(length, b + overlap))
        for a, b in zip(edges, edges[1:])
    ]


def plan(width: int, height: int, tile: int, overlap: int) -> list[Tile]:
    """The grid of tiles for a ``width``×``height`` image. ``overlap`` is clamped to half a
    core, so that at most two tiles meet in any band along an axis."""
    tile = max(1, int(tile))
    overlap = max(0, int(overlap))
    row_spans = spans(height, tile, overlap)
    col_spans = spans(width, tile, overlap)
    smallest = min(s.core_end - s.core_start for s in row_spans + col_spans)
    if overlap > smallest // 2:
        overlap = smallest // 2
        row_spans, col_spans = spans(height, tile, overlap), spans(width, tile, overlap)
    return [Tile(r, c) for r in row_spans for c in col_spans]


def overlap_used(tiles: list[Tile]) -> int:
    """The overlap a plan really has (after clamping), from its first tile with a neighbour."""
    for t in tiles:
        for span in (t.rows, t.cols):
            if span.read_end > span.core_end:
                return span.read_end - span.core_end
    return 0


def ramp(span: Span, length: int, overlap: int, scale: int) -> tuple[int, int, np.ndarray]:
    """The weights of one tile along one axis, at output resolution (``scale`` output pixels
    per input pixel): (first output index, end output index, weights)."""
    half = overlap / 2
    low = span.core_start - half if span.core_start > 0 else 0
    high = span.core_end + half if span.core_end < length else length
    start, end = int(math.floor(low * scale)), int(math.ceil(high * scale))
    centres = (np.arange(start, end, dtype=np.float64) + 0.5) / scale  # in input pixels
    weights = np.ones(end - start, dtype=np.float64)
    if span.core_start > 0 and overlap > 0:
        weights = np.minimum(weights, np.clip((centres - low) / overlap, 0.0, 1.0))
    if span.core_end < length and overlap > 0:
        weights = np.minimum(weights, np.clip((high - centres) / overlap, 0.0, 1.0))
    return start, end, weights.astype(np.float32)


def run_tiled(
    image: np.ndarray,
    process: Callable[[np.ndarray], np.ndarray],
    scale: int,
    tile: int,
    overlap: int,
    on_tile: Callable[[int, int, np.ndarray], None] | None = None,
) -> np.ndarray:
    """``process`` each tile of ``image`` (H×W×C, any dtype) and blend the results into one
    float32 array of (H·scale)×(W·scale)×C. ``process`` takes an h×w×C window and returns
    (h·scale)×(w·scale)×C values. ``on_tile(done, total, output_so_far)`` after each tile
    (where Cancel and progress come in)."""
    height, width = image.shape[:2]
    tiles = plan(width, height, tile, overlap)
    used = overlap_used(tiles)
    channels = image.shape[2] if image.ndim == 3 else 1
    out = np.zeros((height * scale, width * scale, channels), dtype=np.float32)
    for index, t in enumerate(tiles, 1):
        left, top, right, bottom = t.read_box
        result = np.asarray(process(image[top:bottom, left:right]), dtype=np.float32)
        expected = ((bottom - top) * scale, (right - left) * scale)
        if result.shape[:2] != expected:
            raise ValueError(f"a tile of {right - left}×{bottom - top} gave {result.shape[1]}×{result.shape[0]}, "
                             f"not ×{scale}")
        if result.ndim == 2:
            result = result[:, :, None]
        y0, y1, wy = ramp(t.rows, height, used, scale)
        x0, x1, wx = ramp(t.cols, width, used, scale)
        part = result[y0 - top * scale : y1 - top * scale, x0 - left * scale : x1 - left * scale]
        out[y0:y1, x0:x1] += part * wy[:, None, None] * wx[None, :, None]
        if on_tile is not None:
            on_tile(index, len(tiles), out)
    return out


def to_uint8(values: np.ndarray, top: float = 1.0) -> np.ndarray:
    """Blended floats (0..``top``) to 8-bit pixels, rounded, in place where possible."""
    if top != 255.0:
        values *= 255.0 / top
    np.clip(values, 0, 255, out=values)
    np.rint(values, out=values)
    return values.astype(np.uint8)


def tile_count(width: int, height: int, tile: int, overlap: int) -> int:
    return len(plan(width, height, tile, overlap))


def describe(width: int, height: int, tile: int, overlap: int) -> dict[str, Any]:
    tiles = plan(width, height, tile, overlap)
    return {"tiles": len(tiles), "tile": tile, "overlap": overlap_used(tiles)}
