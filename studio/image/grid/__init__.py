"""The X/Y/Z grid (A1111's X/Y/Z plot): up to three axes of values, every combination drawn, one
labelled picture plus the cells.

    from studio.image.grid import Axis, GridRequest, draw_grid
    request = GridRequest(ImageRequest(prompt="a red fox", seed=7),
                          x=Axis("steps", "10, 20"), y=Axis("cfg", "3-7 (+2)"))
    result = draw_grid(studio, request, folder, task)   # result.image, result.path, result.cells

- values.py: what a user types (lists, ranges) read into values;
- axes.py: the axis kinds, each value checked as the Image tab checks a request;
- plan.py: the request, every cell's ImageRequest made at the door, the GPU estimate;
- layout.py: the picture's layout (its size known in advance) and the labels drawn on it;
- draw.py: the cells drawn with progress and Cancel, the grid saved with its metadata.
"""

from studio.image.grid.axes import KINDS, Axis, AxisValues, Kind
from studio.image.grid.draw import CellProgress, GridResult, draw_grid
from studio.image.grid.layout import GridLayout, grid_layout
from studio.image.grid.plan import MAX_CELLS, GridPlan, GridRequest, grid_workload, plan_grid

__all__ = [
    "KINDS", "MAX_CELLS", "Axis", "AxisValues", "CellProgress", "GridLayout", "GridPlan", "GridRequest", "GridResult",
    "Kind", "draw_grid", "grid_layout", "grid_workload", "plan_grid",
]
