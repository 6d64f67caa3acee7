"""HTML for the visualiser: token chips in place, and a codebook-index heatmap.

Everything from the user is escaped. Long texts stay light: at most ``MAX_CHIPS`` chips are
drawn (the page says so); counts and id lists are computed on the whole text elsewhere.
"""

from __future__ import annotations

import colorsys
from html import escape

from studio.tokens.text_tokens import Chip, TokenInfo, TokenView

MAX_CHIPS = 2500
MAX_NUMBERED_COLUMNS = 32  # wider grids keep their colours; the numbers move to the tooltips
PALETTE_SIZE = 6

STYLE = """<style>
.tok-view{font-family:ui-monospace,Menlo,Consolas,monospace;line-height:2.3;white-space:normal;word-break:break-all}
.tok-view .tok{border-radius:4px;padding:1px 2px;margin:0 1px;white-space:pre-wrap}
.tok-view .tok sub{font-size:.62em;opacity:.75;margin-left:1px}
.tok-view .c0{background:rgba(255,179,71,.35)}.tok-view .c1{background:rgba(119,221,119,.35)}
.tok-view .c2{background:rgba(132,182,244,.38)}.tok-view .c3{background:rgba(253,138,138,.35)}
.tok-view .c4{background:rgba(203,153,201,.38)}.tok-view .c5{background:rgba(150,222,209,.38)}
.tok-view .special{outline:2px solid #c0392b;background:rgba(192,57,43,.15);font-weight:600}
.tok-view .grp{outline:1px dashed #888}
.tok-view .part{display:inline-block;font-size:.7em;line-height:1.2;margin:0 1px;padding:0 2px;border-radius:3px;background:rgba(128,128,128,.18);vertical-align:middle}
.tok-view .part.partial{outline:1px dotted #b9770e}
.tok-view .cut{opacity:.4;text-decoration:line-through}
.tok-view i{font-style:normal;opacity:.55}
.tok-view .gap{opacity:.7}
.tok-note{font-size:.9em;opacity:.8;margin-bottom:.4em}
.vq-grid{display:grid;gap:1px;font-family:ui-monospace,monospace;font-size:9px;line-height:1;max-width:100%;overflow:auto}
.vq-grid span{display:flex;align-items:center;justify-content:center;aspect-ratio:1;color:#000;min-width:14px}
</style>"""


def visible(text: str) -> str:
    """Escaped text with spaces, tabs and newlines drawn as ·, → and ↵."""
    return (
        escape(text)
        .replace(" ", "<i>·</i>")
        .replace("\t", "<i>→</i>")
        .replace("\r", "<i>␍</i>")
        .replace("\n", "<i>↵</i>")
    )


def _breaks(text: str) -> str:
    """Line breaks placed after a chip, so the text keeps its lines."""
    return "<br>" * text.count("\n")


def _title(token: TokenInfo) -> str:
    parts = [f"#{token.index} id {token.id}", f"piece {token.piece!r}"]
    if token.bytes_hex and not token.special:
        parts.append(f"bytes {token.bytes_hex}")
    if token.partial:
        parts.append("part of a character")
    if token.special:
        parts.append("special token")
    return escape(" · ".join(parts), quote=True)


def _chip_html(chip: Chip, view: TokenView, colour: int, cut_from: int | None) -> str:
    if not chip.tokens:
        return f'<span class="gap" title="not part of any token">{visible(chip.text)}</span>{_breaks(chip.text)}'
    tokens = [view.token(i) for i in chip.tokens]
    cut = " cut" if cut_from is not None and tokens[0].index >= cut_from else ""
    first = tokens[0]
    if len(tokens) == 1:
        special = " special" if first.special else ""
        shown = visible(chip.text) if chip.text else escape(first.piece)
        return (
            f'<span class="tok c{colour}{special}{cut}" title="{_title(first)}">'
            f"{shown}<sub>{first.id}</sub></span>{_breaks(chip.text)}"
        )
    # Several tokens build these characters together (byte pieces of one character).
    parts = "".join(
        f'<span class="part{" partial" if t.partial else ""}" title="{_title(t)}">'
        f"{escape(t.bytes_hex) or escape(t.piece)}<sub>{t.id}</sub></span>"
        for t in tokens
    )
    return f'<span class="tok grp c{colour}{cut}">{visible(chip.text)}{parts}</span>{_breaks(chip.text)}'


def _cut_from(view: TokenView) -> int | None:
    """Index of the first token past the context window (drawn struck through)."""
    if not view.window or not view.window.overflow:
        return None
    return view.text_token_index(view.window.kept_tokens)


def chips_html(view: TokenView, max_chips: int = MAX_CHIPS, note: str | None = None) -> str:
    cut_from = _cut_from(view)
    first = view.first_chips(max_chips + 1)  # one more tells whether the text goes on
    shown = first[:max_chips]
    body = []
    colour = 0
    for chip in shown:
        body.append(_chip_html(chip, view, colour, cut_from))
        if chip.tokens:
            colour = (colour + 1) % PALETTE_SIZE
    header = ""
    if len(first) > max_chips:
        drawn = sum(len(c.tokens) for c in shown)
        header = (
            f'<div class="tok-note">Showing the first {drawn:,} of {len(view.ids):,} tokens '
            "so the page stays fast; the counts and the id list cover the whole text.</div>"
        )
    if note:
        header += f'<div class="tok-note">{escape(note)}</div>'
    return f'{STYLE}{header}<div class="tok-view">{"".join(body)}</div>'


def _index_colour(index: int) -> str:
    hue = (index * 0.618034) % 1.0  # golden-ratio hues: neighbouring codes look different
    red, green, blue = colorsys.hls_to_rgb(hue, 0.72, 0.65)
    return f"#{int(red * 255):02x}{int(green * 255):02x}{int(blue * 255):02x}"


def index_grid_html(grid: list[list[int]]) -> str:
    """The image's codebook indices as a coloured grid with the numbers."""
    cols = len(grid[0]) if grid else 0
    numbers = cols <= MAX_NUMBERED_COLUMNS
    cells = "".join(
        f'<span style="background:{_index_colour(v)}" title="row {r}, col {c}: code {v}">'
        f'{v if numbers else ""}</span>'
        for r, row in enumerate(grid)
        for c, v in enumerate(row)
    )
    size = 26 if cols <= 16 else 20 if cols <= 32 else 12
    return (
        f'{STYLE}<div class="vq-grid" style="grid-template-columns:repeat({cols},{size}px)">{cells}</div>'
    )


def compare_html(views: list[TokenView], max_chips: int = 600) -> str:
    """The same text's chips under each tokenizer, side by side."""
    columns = "".join(
        f'<div style="flex:1;min-width:0"><b>{escape(view.tokenizer)}</b> · {len(view.ids):,} tokens'
        f"{chips_html(view, max_chips)}</div>"
        for view in views
    )
    return f'<div style="display:flex;gap:1em;align-items:flex-start">{columns}</div>'
