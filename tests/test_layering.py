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


# -- the studio's own layers: no import circle, no arrow from a lower layer to a higher one --------

# Lowest first. A module may import modules of its own layer and of lower ones. An import under
# ``if TYPE_CHECKING`` counts too: a type named is a dependency a reader follows (as farm-studio
# draws it), so type hints may point down only, like every other import.
LAYERS = (
    # Plain data and helpers every layer uses.
    ("base", ("studio.errors", "studio.fields", "studio.outputs", "studio.progress", "studio.gc_tuning",
              "studio.torchvision_ops", "studio.zero_gpu", "studio.settings", "studio.devices", "studio.jobs",
              "studio.ml_imports", "studio.pictures", "studio.replicated", "studio.models.specs", "studio")),
    ("models", ("studio.models", "studio.space_config")),  # the catalog, loaders, the cache, tiny twins
    ("context", ("studio.context", "studio.cache_report", "studio.safety", "studio.tools")),  # what reads the cache
    ("text", ("studio.text",)),
    ("tokens", ("studio.tokens",)),
    ("faces", ("studio.faces",)),
    ("image", ("studio.image",)),
    ("prompts", ("studio.prompts",)),  # expansion reads text; Describe and side-by-side draw with image
    ("train", ("studio.train",)),
    ("cluster", ("studio.cluster",)),  # runs the layers above on Ray Serve replicas
    ("entry points", ("studio.memory_plan", "tabs", "app")),
)


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    found = {module_name(path, root): path for top in ("studio", "tabs") for path in (root / top).rglob("*.py")}
    if (root / "app.py").is_file():
        found["app"] = root / "app.py"
    return found


def project_imports(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """The project modules ``path`` imports at run time, at any depth; ``from a import b``
    counts as ``a.b`` where that is a module, else as ``a``; relative imports resolved."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {module for module in found if module in modules and module != name}


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = project_modules(root)
    return {name: project_imports(path, name, modules) for name, path in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def layer_of(module: str) -> int:
    matches = [(len(prefix), rank) for rank, (_, prefixes) in enumerate(LAYERS) for prefix in prefixes
               if module == prefix or module.startswith(prefix + ".")]
    assert matches, f"{module} is in no layer: add it to LAYERS"
    return max(matches)[1]


def upward_arrows(graph: dict[str, set[str]]) -> list[str]:
    return [f"{source} ({LAYERS[layer_of(source)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
            for source, targets in sorted(graph.items()) for target in sorted(targets)
            if layer_of(target) > layer_of(source)]


def test_no_import_circle_remains():
    assert circles(import_graph()) == []


def test_no_layer_imports_a_higher_one():
    assert upward_arrows(import_graph()) == []


def test_the_checks_find_a_circle_and_an_arrow_up(tmp_path):
    (tmp_path / "studio" / "text").mkdir(parents=True)
    (tmp_path / "studio" / "image").mkdir()
    (tmp_path / "studio" / "text" / "a.py").write_text("def later():\n    from studio.image import b\n")
    (tmp_path / "studio" / "image" / "b.py").write_text("from studio.text import a\n")
    (tmp_path / "studio" / "image" / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from studio.train import d\n")
    (tmp_path / "studio" / "train").mkdir()
    (tmp_path / "studio" / "train" / "d.py").write_text("from . import e\n")
    (tmp_path / "studio" / "train" / "e.py").write_text("")
    graph = import_graph(tmp_path)
    assert circles(graph) == [["studio.image.b", "studio.text.a"]]
    assert upward_arrows(graph) == ["studio.image.c (image) imports studio.train.d (train)",
                                    "studio.text.a (text) imports studio.image.b (image)"]
    assert graph["studio.image.c"] == {"studio.train.d"}  # a type hint is an arrow too
    assert graph["studio.train.d"] == {"studio.train.e"}  # relative imports resolved
