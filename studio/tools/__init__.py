"""The tools, each declared once: its request dataclass (studio.tools.fields), its studio
function, how long it holds the GPU, where a cluster sends it and what its progress says.

A new tool is one module, in a package listed in ``TOOL_PACKAGES``, that defines a ``Tool`` at
module level: every module there is imported once and its tools collected (as the image
families are), so nothing else names it. The page's sub-tab and the API function (tabs.tools),
ZeroGPU's estimate and the cluster's replicas (studio.cluster) all read ``TOOLS``.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from studio import progress
from studio.replicated import Replicated, replicated
from studio.tools.fields import Declared, checked, fields_of

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from studio.context import StudioContext
    from studio.settings import Settings

# Packages whose modules may declare tools (a folder added to a package's __path__ counts).
TOOL_PACKAGES = ("studio.image.edit",)


@dataclass(frozen=True)
class Tool:
    """One tool. ``run(studio, request, folder, task)`` does the work and returns its result (an
    EditResult); ``workload(studio, request)`` says what it draws before anything loads (the GPU
    estimate, a class's limits); ``route(arguments)`` names the model a cluster routes it by."""

    name: str  # the API's name, the i18n prefix ("edit.<name>..."), the replicas' name
    request: type  # its request dataclass: the declaration of its fields
    run: Callable[..., Any]
    workload: Callable[[StudioContext, Any], Any]
    route: Callable[[dict[str, Any]], str]
    labels: dict[str, str] = field(default_factory=dict)  # progress label key -> English template
    summary: str = ""  # the API's docstring
    order: int = 100  # its place among the tab's tools
    again: bool = False  # its result can go straight back in ("extend again")
    picture: str = "image"  # the field that takes the picture (what "send to" fills)
    tab: str = "edit"  # the tab it appears in
    from_page: Callable[[Any], Any] | None = None  # the page's request to the one the tool reads (a brush editor)

    @property
    def fields(self) -> list[Declared]:
        return fields_of(self.request)

    def checked(self, request: Any, settings: Settings | None = None) -> Any:
        return checked(request, settings)


TOOLS: dict[str, Tool] = {}
_MARKED: dict[str, Replicated] = {}


def declare(name: str, request: type, run: Callable[..., Any], workload: Callable[..., Any],
            route: Callable[[dict[str, Any]], str], **rest: Any) -> Tool:
    """A Tool, with its function marked for a cluster's replicas (studio.replicated) and its
    progress labels known to every page."""
    marked = replicated(name, route, folder="folder", task="task")(run)
    progress.LABELS.update(rest.get("labels", {}))
    return Tool(name, request, marked, workload, route, **rest)


def discover() -> dict[str, Tool]:
    found: list[Tool] = []
    for package_name in TOOL_PACKAGES:
        package = importlib.import_module(package_name)
        for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            if module_info.name.startswith("_"):
                continue
            module = importlib.import_module(f"{package_name}.{module_info.name}")
            found += [value for value in vars(module).values() if isinstance(value, Tool)]
    names = [tool.name for tool in found]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise RuntimeError(f"Two tools are called {', '.join(duplicates)}.")
    return {tool.name: tool for tool in sorted(found, key=lambda tool: (tool.order, tool.name))}


def refresh() -> dict[str, Tool]:
    """Find the tools again (a module added to a package), in place."""
    found = discover()
    TOOLS.clear()
    TOOLS.update(found)
    return TOOLS


def tools(tab: str | None = None) -> list[Tool]:
    if not TOOLS:
        refresh()
    return [tool for tool in TOOLS.values() if tab is None or tool.tab == tab]
