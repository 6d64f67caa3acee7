"""What travels between the front and a replica, which may be another machine.

- Pictures (PIL images anywhere in a request or a result) travel as PNG bytes: lossless, and a
  fraction of their raw size.
- Uploads: a picture field that holds a path on the front (a Gradio upload) travels as the file's
  bytes, and the replica writes them to a file of the same name for the call, so the studio
  function reads it exactly as it would have here (its type, its EXIF rotation).
- Errors travel as themselves, so the front raises the replica's very sentence; one that
  cannot be pickled becomes a ``StudioError`` with its text.
- Seeds are fixed at the front: a retry on another replica draws the same pixels.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import os
import pickle
import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from studio.errors import StudioError

if TYPE_CHECKING:
    from PIL import Image

# Request fields that hold a picture: a path there is a file on the front, sent as its bytes.
PICTURE_FIELDS = frozenset({
    "image", "init_image", "mask", "mask_image", "target_image", "source_images", "reference_image",
})
MAX_SEED = 2**31 - 1  # within every seed range the studio accepts


@dataclass(frozen=True)
class Png:
    data: bytes


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes


@dataclass(frozen=True)
class Delivered:
    """In a finished value: the item the replica delivered as number ``index`` (the front has it
    saved already)."""

    index: int


def _png(image: Image.Image) -> Png:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)  # speed over size: it is read once, at once
    return Png(buffer.getvalue())


def _picture(png: Png) -> Image.Image:
    from PIL import Image

    image = Image.open(io.BytesIO(png.data))
    image.load()
    return image


def _is_picture(value: Any) -> bool:
    return type(value).__module__.startswith("PIL.") and hasattr(value, "getpixel")


def _walk(value: Any, change: Callable[[Any, str | None], Any], name: str | None = None) -> Any:
    """``value`` with ``change(value, name)`` applied to every leaf (inside lists, tuples, dicts and
    dataclasses; ``name``: the field or key the leaf sits in)."""
    changed = change(value, name)
    if changed is not value:
        return changed
    if isinstance(value, list):
        return [_walk(item, change, name) for item in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_walk(item, change, name) for item in value)
    if isinstance(value, dict):
        return {key: _walk(item, change, key if isinstance(key, str) else name) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        copied = None
        for field in dataclasses.fields(value):
            item = getattr(value, field.name, None)
            new = _walk(item, change, field.name)
            if new is not item:
                copied = copied or copy.copy(value)
                object.__setattr__(copied, field.name, new)  # frozen dataclasses too
        return copied if copied is not None else value
    return value


def pack(value: Any) -> Any:
    """For the trip: pictures as PNG bytes, uploaded files (by path, in picture fields) as bytes."""

    def change(leaf: Any, name: str | None) -> Any:
        if _is_picture(leaf):
            return _png(leaf)
        if name in PICTURE_FIELDS and isinstance(leaf, (str, os.PathLike)) and os.path.isfile(leaf):
            return Upload(Path(leaf).name, Path(leaf).read_bytes())
        return leaf

    return _walk(value, change)


def unpack(value: Any, uploads: Path | None = None) -> Any:
    """Back from the trip: PNG bytes as pictures; uploads written under ``uploads`` (a folder of
    this call's) and given as their paths there."""
    taken: set[str] = set()

    def change(leaf: Any, _name: str | None) -> Any:
        if isinstance(leaf, Png):
            return _picture(leaf)
        if isinstance(leaf, Upload):
            if uploads is None:
                raise StudioError("An uploaded file reached the front from a replica; nothing to write it to.")
            folder = uploads / str(len(taken))  # one folder each: two uploads may share a name
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / (Path(leaf.name).name or "upload")
            path.write_bytes(leaf.data)
            taken.add(str(path))
            return str(path)
        return leaf

    return _walk(value, change)


def finished(value: Any, delivered: list[Any]) -> Any:
    """A finished value with the items already delivered replaced by their numbers."""
    numbers = {id(item): i for i, item in enumerate(delivered)}
    if isinstance(value, list) and numbers:
        return [Delivered(numbers[id(item)]) if id(item) in numbers else pack(item) for item in value]
    return pack(value)


def with_delivered(value: Any, delivered: list[Any]) -> Any:
    """The inverse of ``finished`` at the front: numbers back to the delivered (saved) items."""
    if isinstance(value, list):
        return [delivered[item.index] if isinstance(item, Delivered) else item for item in value]
    return value


def portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling (the front then raises the replica's own sentence)."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - any exception type that does not round-trip
        return StudioError(f"{type(exc).__name__}: {exc}")


def fixed_seeds(arguments: dict[str, Any]) -> dict[str, Any]:
    """Random seeds (None or negative) drawn here, at the front, in every request argument: a
    retry on another replica then makes the same pixels, and the seed shown is the one used."""

    def change(leaf: Any, name: str | None) -> Any:
        if name == "seed" and (leaf is None or (isinstance(leaf, int) and not isinstance(leaf, bool) and leaf < 0)):
            return random.randrange(MAX_SEED)
        return leaf

    return {name: _walk(value, change) if dataclasses.is_dataclass(value) else value
            for name, value in arguments.items()}
