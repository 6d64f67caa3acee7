"""Let torchvision import when its compiled ops cannot load.

spandrel (upscalers) imports torchvision, and transformers picks it for its image processors
once it is installed. On Linux, PyPI's torchvision wheels are built against CUDA torch; next
to a CPU build of torch (CI, or a CPU machine where torch came from PyTorch's CPU index) its
``_C`` library fails to load, and ``import torchvision`` then dies registering a fake kernel for
``torchvision::nms``, an operator that only that library defines. The studio needs none of
torchvision's compiled ops (detection boxes, video decoding), only its Python transforms.

So, the first time anything imports torchvision, this hook tries the library; if it cannot be
loaded, it declares the two operators torchvision registers unconditionally. They have no
kernel: calling them still raises torchvision's own "Couldn't load custom C++ ops" error.
Where the library loads (a matching torch and torchvision), nothing is declared.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from pathlib import Path

# Declared by torchvision's own C++ code; torchvision/_meta_registrations.py registers fakes
# for these two without checking that the library loaded.
OPERATOR_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
_declared = []  # keeps the torch.library.Library alive: its definitions go with it


class _BeforeTorchvision(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torchvision":
            uninstall()
            declare_missing_operators()
        return None  # the normal finders import it


_hook = _BeforeTorchvision()


def install() -> None:
    """Cheap: imports nothing until torchvision is imported."""
    if _hook not in sys.meta_path and "torchvision" not in sys.modules:
        sys.meta_path.insert(0, _hook)


def uninstall() -> None:
    if _hook in sys.meta_path:
        sys.meta_path.remove(_hook)


def compiled_library() -> Path | None:
    spec = importlib.util.find_spec("torchvision")
    if spec is None or spec.origin is None:
        return None
    return next(iter(sorted(Path(spec.origin).parent.glob("_C*"))), None)


def declare_missing_operators() -> bool:
    """True when the operators had to be declared (torchvision's library does not load)."""
    if importlib.util.find_spec("torchvision") is None:
        return False
    import torch

    library = compiled_library()
    try:
        if library is not None:
            torch.ops.load_library(str(library))
            return False
    except OSError:
        pass
    if _declared:
        return True
    definitions = torch.library.Library("torchvision", "DEF")
    for schema in OPERATOR_SCHEMAS:
        definitions.define(schema)
    _declared.append(definitions)
    return True
