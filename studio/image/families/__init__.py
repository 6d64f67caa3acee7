"""The image model families, and which one a checkpoint belongs to.

A new family is one new module in this package that defines an ``ImageFamily`` at module
level: every module here is imported once and its families collected, so nothing else names
it (pipeline imports, single-file markers, twins, the tabs' choices are all read from here).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from pathlib import Path

from studio import ml_imports
from studio.errors import BadInput
from studio.image.families.base import ImageFamily
from studio.models import catalog

# The default family first; the others in their modules' order.
FIRST = "sdxl"
FAMILIES: dict[str, ImageFamily] = {}
_BY_PIPELINE_CLASS: dict[str, ImageFamily] = {}  # diffusers class in model_index.json -> family


def discover() -> dict[str, ImageFamily]:
    """Every family defined in the modules of this package, by name (a folder added to the
    package's ``__path__`` counts as part of it)."""
    found: list[ImageFamily] = []
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name == "base" or module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        found += [value for value in vars(module).values() if isinstance(value, ImageFamily)]
    found.sort(key=lambda f: f.name != FIRST)  # stable: the modules' order otherwise
    names = [f.name for f in found]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise RuntimeError(f"Two image families are called {', '.join(duplicates)}.")
    return {f.name: f for f in found}


def refresh() -> None:
    """Find the families again (a module added to the package), in place: every module that
    imported ``FAMILIES`` sees the new ones."""
    found = discover()
    FAMILIES.clear()
    FAMILIES.update(found)
    _BY_PIPELINE_CLASS.clear()
    _BY_PIPELINE_CLASS.update({cls: f for f in FAMILIES.values() for cls in f.pipeline_classes.values()})
    ml_imports.register("diffusers", pipeline_class_names())


def family(name: str) -> ImageFamily:
    try:
        return FAMILIES[name]
    except KeyError:
        raise BadInput(f"Unknown model family {name!r}; known: {', '.join(FAMILIES)}.") from None


def of_catalog_id(model_id: str) -> ImageFamily | None:
    """The family of a catalog image id (its tiny twin is named after the family); None for an
    id the catalog does not list."""
    return FAMILIES.get(catalog.entry("image").twins.get(model_id, ""))


def twin_builders() -> dict[str, str]:
    """Each family's tiny twin builder, by twin name (read by studio.models.tiny)."""
    return {f.name: f.twin for f in FAMILIES.values() if f.twin}


def pipeline_class_names() -> list[str]:
    """Every diffusers pipeline class a family uses (registered with studio.ml_imports, which
    resolves them ahead, serially)."""
    return list(dict.fromkeys(cls for f in FAMILIES.values() for cls in f.pipeline_classes.values()))


def from_model_index(path: Path) -> ImageFamily:
    """The family of a diffusers pipeline folder, from its model_index.json."""
    try:
        class_name = json.loads(Path(path).read_text(encoding="utf-8")).get("_class_name", "")
    except (OSError, ValueError) as exc:
        raise BadInput(f"{Path(path).parent.name}: model_index.json cannot be read ({exc}).") from None
    found = _BY_PIPELINE_CLASS.get(class_name)
    if found is None:
        raise BadInput(
            f"{Path(path).parent.name} is a {class_name or 'unknown'} pipeline; the Image tab runs "
            f"{', '.join(f.label for f in FAMILIES.values())}."
        )
    return found


def from_single_file_keys(keys: list[str], name: str) -> ImageFamily:
    for found in FAMILIES.values():
        if any(key.startswith(found.single_file_markers) for key in keys if found.single_file_markers):
            return found
    raise BadInput(
        f"{name} does not look like a checkpoint of {', '.join(f.label for f in FAMILIES.values())} (none of "
        "their weight names were found). Is it a LoRA? Put LoRAs in the loras folder."
    )


refresh()
