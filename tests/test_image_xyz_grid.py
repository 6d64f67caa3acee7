"""The X/Y/Z grid on the tiny twins: every combination drawn, one labelled picture whose size is
the computed layout, each cell saved with its own metadata, values read as A1111 users type
them, refusals in a sentence, and Cancel within a cell keeping the cells already made."""

from __future__ import annotations

import numpy as np
import pytest

from studio import progress
from studio.errors import BadInput
from studio.image.generate import generate_images
from studio.image.gpu_seconds import generation_load
from studio.image.grid import Axis, CellProgress, GridRequest, draw_grid, grid_layout, grid_workload, plan_grid, values
from studio.image.request import ImageRequest
from studio.pictures import metadata
from studio.progress import Cancelled, Delivered, Finished, Task
from tests.image_helpers import image_ctx, pixels  # noqa: F401  (fixture)

SMALL = dict(width=256, height=256, steps=2)
LORA = "people/style.safetensors"  # the tiny SDXL LoRA the fixture puts in its loras folder


def base(**fields) -> ImageRequest:
    return ImageRequest(**{"prompt": "a red fox in the snow", "seed": 11, **SMALL, **fields})


def saved(result) -> dict:
    return metadata.read_parameters(result.path)["studio"]


def test_a_2_by_3_grid_gives_6_cells_and_one_grid_of_the_computed_size(image_ctx, tmp_path):
    request = GridRequest(base(), x=Axis("steps", "1, 2"), y=Axis("cfg", "3, 5, 7"))
    task = Task(lambda t: draw_grid(image_ctx, request, tmp_path, t))
    events = list(task.events())
    result = events[-1].value
    assert len(result.cells) == 6 and len([e for e in events if isinstance(e, Delivered)]) == 6
    layout = grid_layout((256, 256), (2, 3, 1), (True, True, False))
    assert result.layout == layout
    assert result.image.size == layout.size == (layout.margin + 2 * 256, layout.header + 3 * 256)
    # Each cell is where its values put it, and saved with them in its own metadata.
    for column, steps in enumerate((1, 2)):
        for row, cfg in enumerate((3.0, 5.0, 7.0)):
            cell = result.cell(column, row)
            request_saved = saved(cell)["request"]
            assert (request_saved["steps"], request_saved["cfg"], request_saved["seed"]) == (steps, cfg, 11)
            assert cell.steps_run == steps
            assert f"Steps: {steps}, Sampler" in metadata.read_parameters(cell.path)["parameters"]
            left, top = layout.cell_origin(column, row, 0)
            assert np.array_equal(np.asarray(result.image.crop((left, top, left + 256, top + 256))), np.asarray(cell.image))
    # Progress ran across the cells, labelled by cell, and the steps counted over the grid.
    assert task.last_progress.label == progress.label("cell", index=6, count=6)
    assert (task.last_progress.step, task.last_progress.total) == (9, 9)  # 1+1+1+2+2+2
    # The grid is saved too, saying what its axes were.
    grid_saved = metadata.read_parameters(result.path)
    axes = grid_saved["studio"]["xyz_grid"]["axes"]
    assert [(a["axis"], a["kind"], a["values"]) for a in axes] == [("X", "steps", [1, 2]), ("Y", "cfg", [3.0, 5.0, 7.0])]
    assert grid_saved["studio"]["request"]["seed"] == 11
    assert 'X Type: Steps, X Values: "1, 2", Y Type: CFG' in grid_saved["parameters"]


def test_a_cell_is_the_very_image_its_request_draws_alone(image_ctx):
    result = draw_grid(image_ctx, GridRequest(base(), x=Axis("cfg", "2, 6")), None)
    alone = generate_images(image_ctx, base(cfg=6), None)[0]
    assert np.array_equal(pixels(result.cell(1)), pixels(alone))
    assert result.path is None and result.layout.header > 0 and result.layout.margin == 0


def test_a_random_seed_is_drawn_once_for_the_whole_grid(image_ctx):
    result = draw_grid(image_ctx, GridRequest(base(seed=-1), x=Axis("sharpness", "0, 2")), None)
    seeds = {cell.seed for cell in result.cells}
    assert len(seeds) == 1 and seeds.pop() >= 0


def test_prompt_search_and_replace_replaces_the_first_value_by_each(image_ctx):
    request = GridRequest(base(negative_prompt="a blurry fox"), x=Axis("prompt_sr", "fox, cat, owl"))
    result = draw_grid(image_ctx, request, None)
    assert [cell.prompt for cell in result.cells] == ["a red fox in the snow", "a red cat in the snow", "a red owl in the snow"]
    assert [cell.negative_prompt for cell in result.cells][2] == "a blurry owl"
    assert result.axes[0].labels() == ["fox", "cat", "owl"]
    with pytest.raises(BadInput, match="'wolf' is not in the prompt"):
        plan_grid(image_ctx, GridRequest(base(), x=Axis("prompt_sr", "wolf, cat")))


def test_seeds_samplers_styles_lora_weights_and_a_z_axis(image_ctx, tmp_path):
    request = GridRequest(base(loras=((LORA, 1.0),)), x=Axis("seed", "3-4"), y=Axis("sampler", "euler a, DDIM"),
                          z=Axis("lora_weight", "0, 0.5"))
    plan = plan_grid(image_ctx, request)
    assert plan.shape == (2, 2, 2)
    assert [c.request.seed for c in plan.cells[:2]] == [3, 4]
    assert [c.request.scheduler for c in plan.cells[:4:2]] == ["Euler a", "DDIM"]
    assert [c.request.loras for c in plan.cells[::4]] == [((LORA, 0.0),), ((LORA, 0.5),)]
    result = draw_grid(image_ctx, request, tmp_path)
    layout = grid_layout((256, 256), (2, 2, 2), (True, True, True))
    assert result.image.size == layout.size == (2 * (layout.margin + 512) + layout.gap, layout.caption + layout.header + 512)
    assert saved(result.cell(1, 1, 1))["request"]["loras"] == [[LORA, 0.5]]
    assert result.axes[2].labels() == ["LoRA weight: 0", "LoRA weight: 0.5"]
    styled = plan_grid(image_ctx, GridRequest(base(styles=("Cinematic",)), x=Axis("style", "None, analog film + Macro")))
    assert [c.request.styles for c in styled.cells] == [(), ("Analog film", "Macro")]


def test_a_checkpoint_axis_draws_each_checkpoints_cells_together(image_ctx):
    request = GridRequest(base(steps=1), x=Axis("checkpoint", "stable-diffusion-xl-base, stable-diffusion-v1-5"),
                          y=Axis("seed", "1, 2"))
    plan = plan_grid(image_ctx, request)
    assert [c.request.checkpoint for c in plan.cells[:2]] == ["stabilityai/stable-diffusion-xl-base-1.0",
                                                              "stable-diffusion-v1-5/stable-diffusion-v1-5"]
    assert plan.order == [0, 2, 1, 3]  # each checkpoint loaded once
    assert plan.axes[0].labels() == ["Checkpoint: stable-diffusion-xl-base-1.0", "Checkpoint: stable-diffusion-v1-5"]


@pytest.mark.parametrize("typed,whole,expected", [
    ("1-3", True, [1, 2, 3]),
    ("1-10 (+3)", True, [1, 4, 7, 10]),
    ("0.5-1.5 [3]", False, [0.5, 1.0, 1.5]),
    ("10-1 (-3)", True, [10, 7, 4, 1]),
    ("5-3", True, [5, 4, 3]),
    ("1-10 [4]", True, [1, 4, 7, 10]),
    ("-1, 20, 1-2", True, [-1, 20, 1, 2]),
    ("0-1 (+0.3)", False, [0.0, 0.3, 0.6, 0.9]),
    ("2.5, 7", False, [2.5, 7.0]),
])
def test_values_are_read_as_a1111_users_type_them(typed, whole, expected):
    assert values.numbers(typed, whole, "Steps", 64) == expected


def test_text_values_take_quotes_around_a_comma():
    assert values.texts('"red, white", blue ,, fox') == ["red, white", "blue", "fox"]


@pytest.mark.parametrize("x,y,sentence", [
    (Axis("colour", "1"), Axis(), "Unknown axis 'colour'"),
    (Axis("steps", " , "), Axis(), "The X axis \\(Steps\\) has no values"),
    (Axis("steps", "2.5"), Axis(), "takes whole numbers"),
    (Axis("steps", "20, 500"), Axis(), "X axis \\(Steps\\): Steps must be between 1 and 150, not 500"),
    (Axis("cfg", "3, x"), Axis(), "takes numbers or ranges like 1-5, not 'x'"),
    (Axis("steps", "1-10 (-1)"), Axis(), "goes away from its end"),
    (Axis("steps", "1-10"), Axis("cfg", "1-9"), "has 10 × 9 × 1 = 90 cells; the limit is 64"),
    (Axis("steps", "1-200000"), Axis(), "gives 200000 values; a grid holds at most 64"),
    (Axis("cfg", "3, 5"), Axis("CFG", "7"), "CFG is on the X and Y axes"),
    (Axis("sampler", "Euler, Heun++"), Axis(), "unknown sampler 'Heun\\+\\+'"),
    (Axis("style", "Cinematic, Vaporwave 9000"), Axis(), "Unknown style 'Vaporwave 9000'"),
    (Axis("lora_weight", "0, 1"), Axis(), "pick a LoRA first"),
    (Axis("checkpoint", "no-such-model"), Axis(), "no checkpoint called 'no-such-model'"),
    (Axis(), Axis(), "Pick at least one axis"),
])
def test_refusals_are_one_sentence_before_anything_is_drawn(image_ctx, x, y, sentence):
    with pytest.raises(BadInput, match=sentence):
        plan_grid(image_ctx, GridRequest(base(), x=x, y=y))


def test_a_sampler_its_checkpoint_cannot_use_and_an_array_are_refused(image_ctx):
    with pytest.raises(BadInput, match="not available for"):
        plan_grid(image_ctx, GridRequest(base(checkpoint="Tongyi-MAI/Z-Image-Turbo"), x=Axis("sampler", "DDIM")))
    with pytest.raises(BadInput, match="one image per cell"):
        plan_grid(image_ctx, GridRequest(base(prompt="a [[red, blue]] fox"), x=Axis("cfg", "3, 5")))


def test_the_workload_counts_one_image_per_cell_at_the_most_steps(image_ctx):
    request = GridRequest(base(), x=Axis("steps", "2, 4, 6"), y=Axis("seed", "1, 2"))
    load = grid_workload(image_ctx, request)
    assert (load.images, load.steps, load.width, load.height) == (6, 6, 256, 256)
    assert load.step_seconds_per_mp == generation_load(image_ctx, base()).step_seconds_per_mp


class CancelAtCell(Task):
    """Presses Cancel at the first step of one cell (the press and the step on the same thread:
    no race with how fast the tiny twin draws)."""

    def __init__(self, work, cell: int):
        super().__init__(work)
        self.at = progress.label("cell", index=cell, count=3)
        self.steps_of_cell: list[int] = []

    def step(self, step, total, label="", preview=None):
        if label == self.at:
            self.steps_of_cell.append(step)
            if len(self.steps_of_cell) == 2:  # the cell's announcement, then its first step
                self.cancel()
        super().step(step, total, label, preview)


def test_cancel_stops_within_a_cell_and_keeps_the_cells_already_made(image_ctx, tmp_path):
    request = GridRequest(base(steps=3), x=Axis("cfg", "3, 5, 7"))
    task = CancelAtCell(lambda t: draw_grid(image_ctx, request, tmp_path, t), cell=2)
    delivered = []
    with pytest.raises(Cancelled):
        for event in task.events():
            assert not isinstance(event, Finished)
            if isinstance(event, Delivered):
                delivered.append(event.item)
    assert task.outcome == "cancelled"
    assert len(delivered) == 1 and saved(delivered[0])["request"]["cfg"] == 3.0
    assert task.steps_of_cell == [3, 4]  # cell 2 announced at step 3 of 9, stopped at its first step
    assert len(list(tmp_path.glob("*/*.png"))) == 1  # the first cell, and no grid


def test_a_cells_steps_count_over_the_grid_and_a_retried_replica_still_says_so():
    from studio.cluster.retried import RetriedLabel  # plain data: no Ray imported

    grid = Task(lambda t: None)
    cell = CellProgress(grid, 2, 3, before=4, after=2, estimate=2)
    cell.step(1, 3, progress.label("image", index=1, count=1))  # the pipeline's own count wins over the estimate
    assert (grid.last_progress.step, grid.last_progress.total, str(grid.last_progress.label)) == (5, 9, "cell 2 of 3")
    cell.step(2, 3, RetriedLabel(inner=progress.label("image", index=1, count=1)))
    assert str(grid.last_progress.label) == "cell 2 of 3 · one replica was lost; finishing on another"
    grid.cancel()
    with pytest.raises(Cancelled):
        cell.step(3, 3)
