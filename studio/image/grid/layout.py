"""The grid picture: cells of W×H in columns (X) and rows (Y), with a band of column headers
above, a margin of row labels on the left, and one such panel per Z value, side by side, each
under its caption.

The bands' sizes depend only on the cell size and on which axes are used, never on the words,
so the picture's size is known before anything is drawn (``grid_layout(...).size``); a label too
long for its band is wrapped, then cut with "…".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image, ImageDraw, ImageFont

BACKGROUND = "white"
INK = "black"
HEADER_LINES = 2  # lines of a column header
# Fonts that also have Chinese, where the system has one (a Traditional Chinese prompt on a Prompt
# S/R axis); otherwise Pillow's own font, which draws Latin text only.
CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msjh.ttc",
)


@dataclass(frozen=True)
class GridLayout:
    cell_width: int
    cell_height: int
    columns: int
    rows: int
    panels: int
    font_size: int
    line: int  # one line of label text, with its leading
    pad: int
    header: int  # height of the column headers' band (0 without an X axis)
    margin: int  # width of the row labels' margin (0 without a Y axis)
    caption: int  # height of a panel's caption (0 without a Z axis)
    gap: int  # between panels

    @property
    def panel_size(self) -> tuple[int, int]:
        return (self.margin + self.columns * self.cell_width,
                self.caption + self.header + self.rows * self.cell_height)

    @property
    def size(self) -> tuple[int, int]:
        width, height = self.panel_size
        return self.panels * width + (self.panels - 1) * self.gap, height

    def panel_left(self, panel: int) -> int:
        return panel * (self.panel_size[0] + self.gap)

    def cell_origin(self, column: int, row: int, panel: int) -> tuple[int, int]:
        """The top-left corner of a cell in the picture."""
        return (self.panel_left(panel) + self.margin + column * self.cell_width,
                self.caption + self.header + row * self.cell_height)


def grid_layout(cell_size: tuple[int, int], shape: tuple[int, int, int],
                labelled: tuple[bool, bool, bool]) -> GridLayout:
    """The layout of ``shape`` (columns, rows, panels) cells of ``cell_size``; ``labelled``: whether
    the X, Y and Z axes are used (each adds its band)."""
    width, height = cell_size
    font_size = max(14, min(40, width // 16))  # readable on a projector beside its cell
    line = round(font_size * 1.3)
    pad = font_size // 2
    return GridLayout(
        cell_width=width, cell_height=height, columns=shape[0], rows=shape[1], panels=shape[2],
        font_size=font_size, line=line, pad=pad,
        header=HEADER_LINES * line + 2 * pad if labelled[0] else 0,
        margin=min(width, max(8 * font_size, width // 3)) if labelled[1] else 0,
        caption=line + 2 * pad if labelled[2] else 0,
        gap=font_size if shape[2] > 1 else 0,
    )


def compose(images: list[Image.Image], layout: GridLayout, labels: tuple[list[str], list[str], list[str]]
            ) -> Image.Image:
    """The grid picture: ``images`` in grid order (X fastest, then Y, then Z), each resized to the
    layout's cell if it differs; ``labels``: the X, Y and Z values' labels ([] for an unused axis)."""
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", layout.size, BACKGROUND)
    cell = (layout.cell_width, layout.cell_height)
    for index, image in enumerate(images):
        column = index % layout.columns
        row = index // layout.columns % layout.rows
        panel = index // (layout.columns * layout.rows)
        image = image.convert("RGB")
        picture.paste(image if image.size == cell else image.resize(cell), layout.cell_origin(column, row, panel))
    draw = ImageDraw.Draw(picture)
    font = _font(layout.font_size)
    x_labels, y_labels, z_labels = labels
    for panel in range(layout.panels):
        left = layout.panel_left(panel)
        if z_labels:
            _text(draw, z_labels[panel], font, layout, (left, 0, layout.panel_size[0], layout.caption), 1)
        for column, text in enumerate(x_labels):
            x = left + layout.margin + column * layout.cell_width
            _text(draw, text, font, layout, (x, layout.caption, layout.cell_width, layout.header), HEADER_LINES)
        for row, text in enumerate(y_labels):
            y = layout.caption + layout.header + row * layout.cell_height
            lines = max(1, (layout.cell_height - 2 * layout.pad) // layout.line)
            _text(draw, text, font, layout, (left, y, layout.margin, layout.cell_height), lines)
    return picture


def _text(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, layout: GridLayout,
          box: tuple[int, int, int, int], lines: int) -> None:
    """``text`` centred in ``box`` (left, top, width, height), wrapped to at most ``lines`` lines."""
    left, top, width, height = box
    wrapped = _wrapped(text, font, width - 2 * layout.pad, lines)
    y = top + (height - len(wrapped) * layout.line) // 2
    for line in wrapped:
        x = left + (width - font.getlength(line)) / 2
        draw.text((x, y + (layout.line - layout.font_size) // 2), line, fill=INK, font=font)
        y += layout.line


def _wrapped(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int, lines: int) -> list[str]:
    """Words on lines no wider than ``width``; a word too long (or text without spaces, as
    Chinese is written) is broken between characters; past ``lines`` the last one ends in "…"."""
    out: list[str] = []
    current = ""
    for word in str(text).split():
        joined = f"{current} {word}" if current else word
        if font.getlength(joined) <= width:
            current = joined
            continue
        if current:
            out.append(current)
        current = ""
        for char in word:  # the word alone is too wide: break it
            if current and font.getlength(current + char) > width:
                out.append(current)
                current = ""
            current += char
    if current:
        out.append(current)
    if len(out) > lines:
        last = out[lines - 1]
        while last and font.getlength(last + "…") > width:
            last = last[:-1]
        out = out[:lines - 1] + [last + "…"]
    return out


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont

    for path in CJK_FONTS:
        if Path(path).is_file():
            try:
                return ImageFont.truetype(path, size)
            except OSError:
                continue
    return ImageFont.load_default(size=size)
