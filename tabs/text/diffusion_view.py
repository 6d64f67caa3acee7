"""What the Diffusion mode shows, as HTML and table rows built from the engine's plain records:
each step as a row of tokens (the ones unmasked at that step highlighted, the rest still
[MASK]), confidences on hover and in a table, the side-by-side figures, fill-mask candidates and
forward noising. No Gradio here: the handlers put these into components."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Callable

from studio.text.diffusion.fill_mask import FillMaskResult
from studio.text.diffusion.noising import NoisingResult
from studio.text.diffusion.request import DiffusionStep
from studio.text.tokens_view import probability_colour

Say = Callable[[str], str]
MASK = "[MASK]"
STEP_COLUMNS = ("step", "position", "token", "confidence")
FILL_COLUMNS = ("blank", "rank", "candidate", "probability")
# The rows' look, once per component (gr.HTML's css_template, scoped to it), so each of the
# thousands of cells carries a short class instead of a style.
TOKEN_CSS = """
.row { margin: 2px 0; }
.label { display: inline-block; min-width: 4.5em; color: #666; font-size: 0.85em; }
.token { display: inline-block; border-radius: 3px; padding: 0 2px; margin: 1px; white-space: pre;
         font-family: monospace; color: #111; }
.mask { color: #888; background: #eee; }
.kept { background: #f4f4f4; }
.new { outline: 2px solid #e65100; font-weight: 600; }
.noised { color: #fff; background: #c62828; font-weight: 600; }
.steps { max-height: 480px; overflow: auto; }
.left-out { color: #666; font-size: 0.85em; }
"""
ROWS_CELL_BUDGET = 30_000  # cells in the every-step view (about 1 MB); longer runs show their last rows


def shown_token(token: str) -> str:
    """A token as a cell shows it: line breaks marked, an empty piece as ∅."""
    return token.replace("\n", "↵").replace("\t", "⇥") or "∅"


def unmasked_by(steps: list[DiffusionStep], upto: int) -> dict[int, tuple[int, float]]:
    """position -> (the step that unmasked it, the model's confidence then), for steps <= ``upto``."""
    found: dict[int, tuple[int, float]] = {}
    for step in steps[: upto + 1]:
        found.update({position: (step.step, p) for position, p in zip(step.unmasked, step.confidences)})
    return found


def _cell(text: str, kind: str, title: str = "", style: str = "") -> str:
    hover = f" title='{escape(title, quote=True)}'" if title else ""
    colour = f" style='{style}'" if style else ""
    return f"<span class='token {kind}'{colour}{hover}>{escape(shown_token(text))}</span>"


def _row(number: int, cells: list[str], say: Say) -> str:
    label = escape(say("text.diffusion.row_label").format(step=number))
    return f"<div class='row' data-step='{number}'><span class='label'>{label}</span>{''.join(cells)}</div>"


def step_row(step: DiffusionStep, known: dict[int, tuple[int, float]], say: Say, every_title: bool = True) -> str:
    """One step: tokens unmasked at it highlighted (coloured by confidence), the rest as they stand.
    Each unmasked token's confidence shows on hover: on every token (``every_title``), or only on
    the step that unmasked it (the every-step view, where that keeps the page light)."""
    fresh = set(step.unmasked)
    cells = []
    for position, token in enumerate(step.tokens):
        if token is None:
            cells.append(_cell(MASK, "mask"))
            continue
        when, confidence = known.get(position, (step.step, 0.0))
        title = say("text.diffusion.token_title").format(step=when, confidence=confidence)
        if position in fresh:
            cells.append(_cell(token, "new", title, f"background:{probability_colour(confidence)}"))
        else:
            cells.append(_cell(token, "kept", title if every_title else ""))
    return _row(step.step, cells, say)


def shown_step(steps: list[DiffusionStep], index: int, say: Say) -> str:
    """The row the slider points at (the empty view before any run)."""
    if not steps:
        return "<div class='row empty'>—</div>"
    index = max(0, min(int(index or 0), len(steps) - 1))
    return step_row(steps[index], unmasked_by(steps, index), say)


def all_rows(steps: list[DiffusionStep], say: Say) -> str:
    """Every step as a row; past the cell budget, only the last rows that fit (the slider shows any)."""
    width = max(1, len(steps[0].tokens)) if steps else 1
    first = max(0, len(steps) - max(1, ROWS_CELL_BUDGET // width))
    rows, known = [], unmasked_by(steps, first - 1) if first else {}
    if first:
        rows.append(f"<div class='left-out'>{escape(say('text.diffusion.rows_left_out').format(count=first))}</div>")
    for step in steps[first:]:
        known.update({position: (step.step, p) for position, p in zip(step.unmasked, step.confidences)})
        rows.append(step_row(step, known, say, every_title=False))
    return f"<div class='steps'>{''.join(rows)}</div>"


def confidence_rows(steps: list[DiffusionStep]) -> list[list[object]]:
    """One row per unmasked token: the step, its position, the token and the model's confidence."""
    return [
        [step.step, position, shown_token(step.tokens[position] or ""), round(p, 4)]
        for step in steps for position, p in zip(step.unmasked, step.confidences)
    ]


def table(columns: tuple[str, ...], rows: list[list[object]], say: Say, prefix: str) -> dict:
    return {"headers": [say(f"{prefix}.{column}") for column in columns], "data": rows}


@dataclass
class RunFigures:
    """What one way of writing the answer cost: model calls, tokens written, seconds."""

    model: str
    forward_passes: int
    tokens: int
    seconds: float


def comparison_markdown(figures: dict[str, RunFigures], say: Say) -> str:
    """Diffusion and next-token generation side by side (either may be missing yet)."""
    header = [say(f"text.diffusion.cmp.{key}") for key in ("way", "passes", "tokens", "seconds")]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for key in ("diffusion", "next_token"):
        found = figures.get(key)
        name = say(f"text.diffusion.cmp.{key}")
        if found is None:
            lines.append(f"| {name} | — | — | — |")
        else:
            lines.append(f"| {name} · `{found.model}` | **{found.forward_passes}** | {found.tokens} | "
                         f"{found.seconds:.2f} |")
    return "\n".join(lines) + "\n\n" + say("text.diffusion.cmp.lesson")


def noising_rows(result: NoisingResult, say: Say) -> str:
    """The sentence, then each step with the positions masked at that step in red."""
    rows = []
    for number, tokens in enumerate(result.steps):
        before = result.steps[number - 1] if number else tokens
        cells = [
            _cell(token, "kept") if token is not None
            else _cell(MASK, "noised" if before[position] is not None else "mask")
            for position, token in enumerate(tokens)
        ]
        rows.append(_row(number, cells, say))
    return "".join(rows)


def fill_rows(result: FillMaskResult) -> list[list[object]]:
    return [
        [blank, rank, shown_token(word), round(p, 4)]
        for blank, guess in enumerate(result.masks, start=1)
        for rank, (word, p) in enumerate(guess.candidates, start=1)
    ]
