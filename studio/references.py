"""``"module:attribute"`` references, resolved when first needed: how the loaders, the tiny twins
and the image families name code that imports heavy libraries, without importing it."""

from __future__ import annotations

import importlib
from typing import Any


def resolve(reference: str) -> Any:
    """The object ``reference`` names, its module imported now."""
    module_name, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module_name), attribute)
