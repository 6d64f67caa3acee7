"""Drawing an X/Y/Z grid: every cell through ``generate_images``, then the labelled picture.

    result = draw_grid(studio, GridRequest(base, x=Axis("steps", "10, 20"), y=Axis("cfg", "3-7 (+2)")), folder, task)

Each cell is one ``generate_images`` call, so it is saved in ``folder`` with its own metadata
(its axis values are in its request) and delivered to ``task`` as soon as it is done. Progress
runs across the cells ("cell 2 of 6", steps counted over the whole grid); Cancel stops within a
cell, and the cells already made stay saved and delivered.

Not marked for a cluster's replicas (studio.replicated) on purpose: each cell's
``generate_images`` call is, and is routed by its own checkpoint and LoRAs, so a checkpoint axis
sends each cell to a replica that holds that checkpoint; the front keeps the folder, the
progress and Cancel as for any generation, and only the picture, a cheap paste, is made here.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio import progress
from studio.image.generate import generate_images
from studio.image.grid.axes import AxisValues
from studio.image.grid.layout import GridLayout, compose, grid_layout
from studio.image.grid.plan import GridPlan, GridRequest, plan_grid, record
from studio.image.request import ImageResult
from studio.pictures import outputs

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from PIL import Image

    from studio.context import StudioContext
    from studio.progress import Label, Task

GRID_KIND = "xyz grid"  # in the grid's file name and its history caption


@dataclass
class GridResult:
    image: Image.Image  # the labelled grid
    path: str | None  # its PNG, when saved
    cells: list[ImageResult]  # grid order: X fastest, then Y, then Z
    axes: tuple[AxisValues | None, AxisValues | None, AxisValues | None]  # X, Y, Z (None: unused)
    layout: GridLayout
    parameters: dict[str, Any]  # what the grid's PNG holds besides its A1111 text
    notes: list[str] = field(default_factory=list)

    def cell(self, column: int = 0, row: int = 0, panel: int = 0) -> ImageResult:
        return self.cells[(panel * self.layout.rows + row) * self.layout.columns + column]

    def summary(self) -> dict[str, Any]:
        """JSON-safe, for the API: the grid's file, its axes, and each cell's own summary."""
        columns, rows = self.layout.columns, self.layout.rows
        return {
            "file_name": Path(self.path).name if self.path else None,
            "width": self.image.width, "height": self.image.height,
            "axes": [axis.record() for axis in self.axes if axis is not None],
            "cells": [{"column": i % columns, "row": i // columns % rows, "panel": i // (columns * rows),
                       **cell.summary()} for i, cell in enumerate(self.cells)],
            "notes": self.notes,
        }


class CellProgress:
    """What one cell's ``generate_images`` sees as its task: its steps reported as the grid's
    (counted across every cell, labelled "cell i of n"), its results passed on, Cancel shared."""

    def __init__(self, grid: Task, number: int, count: int, before: int, after: int, estimate: int):
        self.grid = grid
        self.cancel_flag = grid.cancel_flag
        self.label = progress.label("cell", index=number, count=count)
        self.before, self.after = before, after  # steps of the cells drawn before it, and of those after
        self.total = estimate  # its own steps: the estimate until the pipeline says

    @property
    def last_progress(self) -> None:
        return None  # a cluster's retry restates the cell's progress itself (its steps are the cell's)

    def start(self) -> None:
        """Say which cell is next (its model may take a while to load); raises Cancelled after Cancel."""
        self.grid.step(self.before, self.before + self.total + self.after, self.label)

    def step(self, step: int, total: int, label: Label | str = "", preview: Image.Image | None = None) -> None:
        self.total = total
        # A retried call's label keeps its "replica lost" words around the cell's.
        shown = dataclasses.replace(label, inner=self.label) if hasattr(label, "inner") else self.label
        self.grid.step(self.before + step, self.before + total + self.after, shown, preview)

    def check_cancelled(self) -> None:
        self.grid.check_cancelled()

    def deliver(self, item: Any) -> None:
        self.grid.deliver(item)


def draw_grid(studio: StudioContext, request: GridRequest, folder: Path | None, task: Task | None = None,
              owner: str | None = None) -> GridResult:
    """Draw every cell of ``request`` and the labelled grid; cells and grid saved in ``folder``
    (when given). ``task`` (studio.progress.Task): progress across cells, each cell delivered as it
    is done, Cancel within a cell. ``owner``: whose own LoRAs may be used (by default the folder's)."""
    owner = owner or (Path(folder).name if folder is not None else None)
    plan = plan_grid(studio, request, owner)
    made: list[ImageResult | None] = [None] * len(plan.cells)
    done = 0  # steps of the cells drawn so far
    for number, index in enumerate(plan.order, 1):
        cell_task = None
        if task is not None:
            after = sum(plan.cells[i].load.steps for i in plan.order[number:])
            cell_task = CellProgress(task, number, len(plan.order), done, after, plan.cells[index].load.steps)
            cell_task.start()
        made[index] = generate_images(studio, plan.cells[index].request, folder, cell_task, owner)[0]
        done += cell_task.total if cell_task is not None else 0
    return _grid(plan, [cell for cell in made if cell is not None], folder)


def _grid(plan: GridPlan, cells: list[ImageResult], folder: Path | None) -> GridResult:
    layout = grid_layout(cells[0].image.size, plan.shape, tuple(axis is not None for axis in plan.axes))
    labels = tuple(axis.labels() if axis else [] for axis in plan.axes)
    image = compose([cell.image for cell in cells], layout, labels)
    parameters = {
        "xyz_grid": {**record(plan), "cell_size": [layout.cell_width, layout.cell_height],
                     "cells": [Path(cell.path).name if cell.path else None for cell in cells]},
        "request": plan.base.parameters(),  # loading the grid's PNG back gives the base settings
    }
    path = None
    if folder is not None:
        a1111 = _a1111(cells[0].parameters.get("a1111", ""), plan)
        path = str(outputs.save_png(folder, image, a1111, parameters, None, kind=GRID_KIND))
    return GridResult(image, path, cells, plan.axes, layout, parameters, list(plan.notes))


def _a1111(first_cell: str, plan: GridPlan) -> str:
    """The first cell's A1111 text with the axes added, as A1111 writes its grids' ("X Type: Steps,
    X Values: ...")."""
    fields = []
    for axis in plan.axes:
        if axis is not None:
            fields += [f"{axis.position} Type: {axis.kind.title}",
                       f"{axis.position} Values: {json.dumps(axis.text.strip(), ensure_ascii=False)}"]
    return f"{first_cell}, {', '.join(fields)}" if first_cell else ", ".join(fields)
