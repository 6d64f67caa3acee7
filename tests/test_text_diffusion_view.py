"""What the Diffusion sub-tab draws from the engine's plain records: rows with the step's new
tokens highlighted and the rest [MASK], confidences on hover, long runs cut to a light page,
the side-by-side table, forward noising and the fill-mask table."""

from __future__ import annotations

import re

from studio.text.diffusion.fill_mask import FillMaskResult, MaskGuess
from studio.text.diffusion.noising import NoisingResult
from studio.text.diffusion.request import DiffusionStep
from tabs.i18n import Translator
from tabs.text import diffusion_view as view

say = Translator("en").plain
zh = Translator("zh-TW").plain


def _run(length: int, per_step: int) -> list[DiffusionStep]:
    """A fake run: step 0 all masks, then ``per_step`` positions unmasked left to right per step."""
    steps = [DiffusionStep(0, 0, [None] * length, [], [], 0, 0.0)]
    tokens: list[str | None] = [None] * length
    for number, start in enumerate(range(0, length, per_step), start=1):
        positions = list(range(start, min(start + per_step, length)))
        for position in positions:
            tokens[position] = f"t{position}"
        steps.append(DiffusionStep(number, 0, list(tokens), positions, [0.5] * len(positions), number, 0.1 * number))
    return steps


def test_a_row_highlights_what_its_step_unmasked_and_shows_the_rest_as_masks():
    steps = _run(6, 2)
    row = view.shown_step(steps, 2, say)
    assert 'data-step=\'2\'' in row and row.count("[MASK]") == 2
    assert re.findall(r"class='token new'[^>]*>(t\d)<", row) == ["t2", "t3"]
    assert "unmasked at step 1 · confidence 50.0%" in row  # an earlier token keeps its own step on hover
    assert view.shown_step([], 0, say).count("data-step") == 0  # nothing run yet


def test_every_step_is_a_row_and_a_long_run_keeps_its_last_rows():
    short = view.all_rows(_run(6, 2), say)
    assert short.count("class='row'") == 4 and "left-out" not in short
    long = _run(1000, 20)  # 51 rows of 1000 cells: over the page's budget
    shown = view.all_rows(long, say)
    kept = view.ROWS_CELL_BUDGET // 1000
    assert shown.count("class='row'") == kept and f"The first {len(long) - kept} steps" in shown
    assert f"data-step='{len(long) - 1}'" in shown and "data-step='0'" not in shown


def test_the_confidence_table_has_one_row_per_unmasked_token():
    rows = view.confidence_rows(_run(6, 2))
    assert [row[:3] for row in rows] == [[1, 0, "t0"], [1, 1, "t1"], [2, 2, "t2"], [2, 3, "t3"], [3, 4, "t4"],
                                         [3, 5, "t5"]]
    table = view.table(view.STEP_COLUMNS, rows, zh, "text.diffusion.col")
    assert table["headers"][0] == "步" and table["data"] == rows


def test_the_side_by_side_names_both_ways_and_their_calls():
    figures = {"diffusion": view.RunFigures("m-diff", 8, 64, 0.5)}
    half = view.comparison_markdown(figures, say)
    assert "| Diffusion · `m-diff` | **8** | 64 | 0.50 |" in half and "| Next token | — | — | — |" in half
    figures["next_token"] = view.RunFigures("m-next", 64, 64, 1.25)
    assert "| Next token · `m-next` | **64** | 64 | 1.25 |" in view.comparison_markdown(figures, say)
    assert "前向計算次數" in view.comparison_markdown(figures, zh)


def test_noising_marks_the_positions_masked_at_each_step():
    result = NoisingResult(list("abc"), [list("abc"), ["a", None, "c"], [None, None, None]], [1, 0, 2], 0.4, 1, "m")
    html = view.noising_rows(result, say)
    rows = html.split("<div class='row'")[1:]
    assert len(rows) == 3 and "[MASK]" not in rows[0]
    assert rows[1].count("token noised") == 1 and rows[2].count("token noised") == 2
    assert rows[2].count("token mask") == 1  # masked before, not highlighted again


def test_the_fill_mask_table_ranks_each_blanks_candidates():
    result = FillMaskResult("x[MASK][MASK]", [], [MaskGuess(1, [("好", 0.5), ("帥", 0.25)]), MaskGuess(2, [("笑", 0.9)])],
                            "x好笑", "m")
    assert view.fill_rows(result) == [[1, 1, "好", 0.5], [1, 2, "帥", 0.25], [2, 1, "笑", 0.9]]
