"""The X/Y/Z grid's axis kinds: what each one changes in a cell's ImageRequest, how its typed
values are read and checked, and how each value is labelled on the grid.

Every value is checked by making the request it gives and passing it through
``studio.image.request.checked``, so an axis refuses exactly what the Image tab refuses, with a
sentence that says which axis.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.errors import BadInput
from studio.image import checkpoints, schedulers, styles
from studio.image.grid import values as typed
from studio.image.request import ImageRequest, checked, resolve_seed

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from studio.context import StudioContext

NO_STYLE = "None"  # a style value that means "no style at all"
STYLE_JOIN = "+"  # "Cinematic + Macro": several styles in one value


@dataclass(frozen=True)
class Axis:
    """One axis as the user gave it: its kind (a key of ``KINDS``; "" or "none": unused) and its
    values as typed (``values.texts`` / ``values.numbers`` read them)."""

    kind: str = ""
    values: str = ""

    @property
    def used(self) -> bool:
        return str(self.kind or "").strip().lower() not in ("", "none", "nothing")


@dataclass(frozen=True)
class Kind:
    name: str  # the key a request names it by
    title: str  # on the grid's labels and in sentences
    example: str  # what a user types (the UI's placeholder)
    whole: bool | None  # True: whole numbers; False: any number; None: text


KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind("seed", "Seed", "1-4  or  42, 1234, -1", True),
    Kind("cfg", "CFG", "3, 5, 7  or  3-9 (+2)", False),
    Kind("steps", "Steps", "10, 20, 30  or  10-30 [3]", True),
    Kind("sampler", "Sampler", "Euler a, DPM++ 2M Karras, UniPC", None),
    Kind("style", "Style", "None, Cinematic, Analog film + Macro", None),
    Kind("sharpness", "Sharpness", "0, 2, 10  or  0-10 [3]", False),
    Kind("lora_weight", "LoRA weight", "0, 0.5, 1  or  0-1 [5]", False),
    Kind("checkpoint", "Checkpoint", "two names from the checkpoint list, comma-separated", None),
    Kind("prompt_sr", "Prompt S/R", "fox, cat, owl  (the prompt's \"fox\" becomes each in turn)", None),
    Kind("clip_skip", "CLIP skip", "1, 2  or  1-3", True),
    Kind("adaptive_cfg", "Adaptive CFG", "5, 7, 30", False),
)}


def kind_named(name: str) -> Kind:
    """The kind by its key or its title, in any case ("CFG", "cfg", "Prompt S/R")."""
    wanted = str(name or "").strip().casefold()
    for kind in KINDS.values():
        if wanted in (kind.name.casefold(), kind.title.casefold()):
            return kind
    raise BadInput(f"Unknown axis {str(name)[:40]!r}: pick one of {', '.join(KINDS)}.")


@dataclass(frozen=True)
class AxisValues:
    """An axis read and checked: its values in order, one per column (X), row (Y) or panel (Z)."""

    position: str  # "X", "Y" or "Z"
    kind: Kind
    text: str  # as typed
    values: tuple  # numbers, names, or (for style) tuples of style names

    def apply(self, request: ImageRequest, index: int) -> ImageRequest:
        """``request`` with value ``index`` of this axis in it."""
        return apply(self.kind.name, request, self.values[index], self.values[0])

    def labels(self) -> list[str]:
        return [label(self.kind, value) for value in self.values]

    def record(self) -> dict[str, Any]:
        """JSON-safe: what the grid's PNG says about this axis."""
        shown = [list(v) if isinstance(v, tuple) else v for v in self.values]
        return {"axis": self.position, "kind": self.kind.name, "typed": self.text, "values": shown,
                "labels": self.labels()}


def apply(kind: str, request: ImageRequest, value: Any, first: Any) -> ImageRequest:
    if kind == "seed":
        return replace(request, seed=value)
    if kind == "sampler":
        return replace(request, scheduler=value)
    if kind == "style":
        return replace(request, styles=value)
    if kind == "lora_weight":  # the first LoRA's weight; the others keep theirs
        (name, _weight), *rest = request.loras
        return replace(request, loras=((name, value), *rest))
    if kind == "prompt_sr":  # as A1111: the first value is searched, in the prompt and the negative prompt
        return replace(request, prompt=request.prompt.replace(first, value),
                       negative_prompt=request.negative_prompt.replace(first, value))
    return replace(request, **{kind: value})  # cfg, steps, sharpness, checkpoint, clip_skip, adaptive_cfg


def label(kind: Kind, value: Any) -> str:
    if kind.name == "prompt_sr":  # the words themselves say it
        return str(value)
    if kind.name == "style":
        value = f" {STYLE_JOIN} ".join(value) or NO_STYLE
    elif kind.name == "checkpoint":
        value = _short_name(value)
    elif isinstance(value, float):
        value = f"{value:g}"
    return f"{kind.title}: {value}"


def read_axis(studio: StudioContext, axis: Axis, position: str, base: ImageRequest, styles_folder: Path | None,
              limit: int) -> AxisValues:
    """``axis`` read against the checked ``base`` request: every value turned into what the
    request takes, and checked there. Refusals name the axis."""
    kind = kind_named(axis.kind)
    name = f"The {position} axis ({kind.title})"
    if kind.whole is not None:
        found: list = typed.numbers(axis.values, kind.whole, name, limit)
    else:
        found = typed.texts(axis.values)
    if not found:
        raise BadInput(f"{name} has no values: type them, e.g. {kind.example}.")
    if kind.name == "seed":
        found = [resolve_seed(seed) for seed in found]  # -1: a random seed of its own, shown on the grid
    elif kind.name == "sampler":
        found = [_sampler(item, name) for item in found]
    elif kind.name == "style":
        found = [_styles(item, name, styles_folder) for item in found]
    elif kind.name == "checkpoint":
        found = [_checkpoint(studio, item, name) for item in found]
    elif kind.name == "lora_weight" and not base.loras:
        raise BadInput(f"{name} changes the first LoRA's weight: pick a LoRA first.")
    elif kind.name == "prompt_sr" and found[0] not in base.prompt and found[0] not in base.negative_prompt:
        raise BadInput(f"{name}: {found[0][:60]!r} is not in the prompt; its first value is the words each "
                       "value replaces.")
    read = AxisValues(position, kind, str(axis.values), tuple(found))
    for index in range(len(found)):
        try:
            checked(read.apply(base, index), styles_folder)
        except BadInput as exc:
            raise BadInput(f"{name}: {exc}") from None
    return read


def _sampler(item: str, name: str) -> str:
    for known in schedulers.SCHEDULERS:
        if known.casefold() == item.casefold():
            return known
    raise BadInput(f"{name}: unknown sampler {item[:40]!r}. Pick from: {', '.join(schedulers.SCHEDULERS)}.")


def _styles(item: str, name: str, folder: Path | None) -> tuple[str, ...]:
    """One value's styles: "None", one name, or names joined by "+"; any case."""
    if item.casefold() == NO_STYLE.casefold():
        return ()
    by_case = {known.casefold(): known for known in styles.available(folder)}
    names = [part.strip() for part in item.split(STYLE_JOIN) if part.strip()]
    try:
        return styles.check_names([by_case.get(part.casefold(), part) for part in names], folder)
    except BadInput as exc:
        raise BadInput(f"{name}: {exc}") from None


def _checkpoint(studio: StudioContext, item: str, name: str) -> str:
    """The offered checkpoint ``item`` names: exactly, in any case, or as the one shortest name that
    holds it ("juggernaut" for "juggernautXL_v9.safetensors"). A Hub id is kept as it is."""
    offered = checkpoints.offered(studio.settings)
    wanted = item.casefold()
    for known in offered:
        if known.casefold() == wanted:
            return known
    holding = sorted((known for known in offered if wanted in known.casefold()), key=len)
    if holding:
        return holding[0]
    if "/" in item:  # owner/name on the Hub (refused by the model's own check where it is not allowed)
        return item
    raise BadInput(f"{name}: no checkpoint called {item[:60]!r}. Pick from the checkpoint list.")


def _short_name(name: str) -> str:
    last = str(name).replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return last.removesuffix(".safetensors")
