"""The house rule, checked: no Gradio in studio/, no torch (or its model libraries) in tabs/.

Every import counts, at any depth (inside functions, try blocks, ``if`` branches), and so
does ``importlib.import_module("...")`` / ``__import__("...")`` with a literal name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

FORBIDDEN = {
    "studio": {"gradio", "gradio_client"},
    "tabs": {"torch", "transformers", "diffusers", "peft"},
}


def imported_packages(source: str, filename: str = "<source>") -> list[tuple[int, str]]:
    """(line, top-level package) for every absolute import in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func) and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((node.lineno, first.value))
    return [(line, name.split(".")[0]) for line, name in found]


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in ("__import__", "import_module")
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def violations(layer: str, root: Path = ROOT) -> list[str]:
    found = []
    for path in sorted((root / layer).rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        for line, package in imported_packages(source, str(path)):
            if package in FORBIDDEN[layer]:
                found.append(f"{path.relative_to(root).as_posix()}:{line} imports {package}")
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_keeps_to_its_side(layer):
    assert (ROOT / layer).is_dir()
    assert violations(layer) == []


def test_the_check_sees_imports_hidden_anywhere():
    source = '''
import os
def later():
    import torch.nn as nn
    try:
        from diffusers.pipelines import Thing
    except ImportError:
        pass
class Tab:
    def build(self):
        import importlib
        return importlib.import_module("transformers.models"), __import__("peft")
from . import sibling
from .gradio import nothing
'''
    packages = sorted(name for _, name in imported_packages(source))
    # A relative module that happens to be called "gradio" is not the gradio package.
    assert packages == ["diffusers", "importlib", "os", "peft", "torch", "transformers"]


def test_a_violation_is_reported_with_file_and_line(tmp_path):
    layer = tmp_path / "studio" / "deep"
    layer.mkdir(parents=True)
    (layer / "sneaky.py").write_text("def f():\n    import gradio as gr\n    return gr\n")
    (layer / "fine.py").write_text("import torch\n")
    assert violations("studio", root=tmp_path) == ["studio/deep/sneaky.py:2 imports gradio"]


def _module_level_imports(path: Path) -> set[str]:
    """Modules imported when ``path`` is imported: top level, not under ``if TYPE_CHECKING``."""
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_settings_and_the_catalog_do_not_import_each_other_at_load():
    """settings checks --model names against the catalog (imported when read); the catalog
    names Settings in type hints only."""
    catalog = _module_level_imports(ROOT / "studio" / "models" / "catalog.py")
    settings = _module_level_imports(ROOT / "studio" / "settings.py")
    assert not any(name.startswith("studio.settings") for name in catalog)
    assert not any(name.startswith("studio.models.catalog") for name in settings)
