"""An X/Y/Z grid request and its plan: every cell's ImageRequest, made and checked at the door,
before any model loads, and the GPU estimate read from it.

The grid's seed is resolved once (a random one when the base says -1), so cells differ only by
their axis values; the seed axis, when there is one, sets it per cell.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.errors import BadInput
from studio.image import checkpoints, prompt_arrays
from studio.image.gpu_seconds import Workload, generation_load
from studio.image.grid.axes import Axis, AxisValues, kind_named, read_axis
from studio.image.image_texts import sources
from studio.image.request import ImageRequest, checked, images_in, resolve_seed

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from studio.context import StudioContext

MAX_CELLS = 64  # a lesson in one picture; past this it is a batch job, and the picture unreadable
POSITIONS = ("X", "Y", "Z")


@dataclass(frozen=True)
class GridRequest:
    """The Image tab's request plus up to three axes (an unused one: ``Axis()``)."""

    base: ImageRequest
    x: Axis = field(default_factory=Axis)
    y: Axis = field(default_factory=Axis)
    z: Axis = field(default_factory=Axis)

    @property
    def axes(self) -> tuple[Axis, Axis, Axis]:
        return self.x, self.y, self.z


@dataclass(frozen=True)
class Cell:
    position: tuple[int, int, int]  # (column, row, panel): its X, Y and Z value
    request: ImageRequest  # the base with this cell's values in it: one image, at the grid's seed
    load: Workload  # what it draws, known before loading (its steps: progress across cells)


@dataclass
class GridPlan:
    request: GridRequest
    base: ImageRequest  # checked, one image, the grid's seed resolved
    axes: tuple[AxisValues | None, AxisValues | None, AxisValues | None]  # X, Y, Z (None: unused)
    cells: list[Cell]  # grid order: X fastest, then Y, then Z
    order: list[int]  # the order cells are drawn in: each checkpoint's together, so each loads once
    notes: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(columns, rows, panels)."""
        return tuple(len(axis.values) if axis else 1 for axis in self.axes)  # type: ignore[return-value]


def plan_grid(studio: StudioContext, request: GridRequest, owner: str | None = None) -> GridPlan:
    """Every cell made and checked, or the first problem as a sentence (``BadInput``). ``owner``:
    whose own LoRAs the cells may use."""
    styles_folder = sources(studio).styles  # the user's own style files count too
    notes = []
    if str(request.base.image_number).strip() not in ("1", "", "None"):
        notes.append("The grid draws one image per cell; the image number is not used.")
    base = checked(replace(request.base, image_number=1), styles_folder)
    if prompt_arrays.combinations(base.prompt) > 1:
        raise BadInput("The grid draws one image per cell: take the [[array]] out of the prompt, or put its "
                       "items on a Prompt S/R axis.")
    base = replace(base, seed=resolve_seed(base.seed))  # once for the whole grid
    used = [(position, axis) for position, axis in zip(POSITIONS, request.axes) if axis.used]
    if not used:
        raise BadInput("Pick at least one axis for the grid.")
    axes = _read_axes(studio, used, base, styles_folder)
    columns, rows, panels = (len(axis.values) if axis else 1 for axis in axes)
    count = columns * rows * panels
    if count > MAX_CELLS:
        raise BadInput(f"This grid has {columns} × {rows} × {panels} = {count} cells; the limit is {MAX_CELLS}. "
                       "Use fewer values.")
    cells = []
    for panel, row, column in itertools.product(range(panels), range(rows), range(columns)):
        cell = base
        for axis, index in zip(axes, (column, row, panel)):
            cell = axis.apply(cell, index) if axis else cell
        cell = checked(cell, styles_folder)
        _check_cell(studio, cell, owner)
        cells.append(Cell((column, row, panel), cell, generation_load(studio, cell)))
    return GridPlan(request, base, axes, cells, _drawing_order(cells), notes)


def _read_axes(studio: StudioContext, used: list[tuple[str, Axis]], base: ImageRequest,
               styles_folder: Path | None) -> tuple[AxisValues | None, ...]:
    seen: dict[str, str] = {}  # kind -> the axis it is on
    for position, axis in used:
        kind = kind_named(axis.kind)
        if kind.name in seen:
            raise BadInput(f"{kind.title} is on the {seen[kind.name]} and {position} axes; give one of them "
                           "another kind.")
        seen[kind.name] = position
    read = {position: read_axis(studio, axis, position, base, styles_folder, MAX_CELLS) for position, axis in used}
    return tuple(read.get(position) for position in POSITIONS)


def _check_cell(studio: StudioContext, cell: ImageRequest, owner: str | None) -> None:
    """What only the cell's whole request can tell: one image (a replaced word may add an array),
    and its sampler and LoRAs against its checkpoint's family, by the rule generation uses."""
    from studio.image import generate  # the same rule as the draw itself (resolve)

    if images_in(cell) != 1:
        raise BadInput("A Prompt S/R value makes an [[array]]: the grid draws one image per cell.")
    family = checkpoints.family_hint(studio, cell.checkpoint)
    if family is not None:  # otherwise only loading can tell; the cell's own draw says so
        generate.resolve(studio, cell, family, owner)


def _drawing_order(cells: list[Cell]) -> list[int]:
    """Cells grouped by checkpoint, in the order each first appears (a checkpoint axis on X then
    costs one load per checkpoint, not one per cell)."""
    first_seen: dict[str, int] = {}
    for cell in cells:
        first_seen.setdefault(cell.request.checkpoint, len(first_seen))
    return sorted(range(len(cells)), key=lambda i: (first_seen[cells[i].request.checkpoint], i))


def grid_workload(studio: StudioContext, request: GridRequest) -> Workload:
    """What the whole grid draws, for ZeroGPU's duration and a class's limits: one image per cell,
    at the largest size, step count and per-step cost among the cells (an upper bound: a steps axis
    of 10, 20, 30 is counted as 3 × 30)."""
    loads = [cell.load for cell in plan_grid(studio, request).cells]
    speeds = [load.step_seconds_per_mp for load in loads if load.step_seconds_per_mp is not None]
    return Workload(
        images=len(loads),
        width=max(load.width for load in loads),
        height=max(load.height for load in loads),
        steps=max(load.steps for load in loads),
        step_seconds_per_mp=max(speeds) if speeds else None,
        controlnets=max(load.controlnets for load in loads),
    )


def record(plan: GridPlan) -> dict[str, Any]:
    """JSON-safe: the axes and shape, for the grid's PNG."""
    return {"shape": list(plan.shape), "seed": plan.base.seed,
            "axes": [axis.record() for axis in plan.axes if axis is not None]}
