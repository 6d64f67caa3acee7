"""GPU work that a cluster's replicas can run (``--ray``; see ``studio/cluster/``).

A studio function marked ``@replicated(...)`` is called as always::

    results = generate_images(studio, request, folder, task)

Without a cluster (``studio.cluster`` is None, the default and every replica's own case) it
simply runs. With one, the call goes to a replica with the same arguments, and the marks say
what stays at the front: the owner's results ``folder`` (results are saved there by the front),
the caller's progress ``task`` or Stop ``cancel`` (followed across the cluster), and the key that
routes the call to a replica that already holds its model. Nothing here imports Ray.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from typing import Any, Callable

# name -> its entry; a replica looks the function up by the name the front sends.
REGISTRY: dict[str, "Replicated"] = {}


@dataclass(frozen=True)
class Replicated:
    name: str
    fn: Callable[..., Any]
    route: Callable[[dict[str, Any]], str]  # the call's arguments -> the model key replicas are routed by
    folder: str | None = None  # parameter: the owner's results folder (kept, and saved into, at the front)
    owner: str | None = None  # parameter: the folder's name, for the owner's own files (their LoRAs)
    task: str | None = None  # parameter: a studio.progress.Task (progress, previews, deliveries, Cancel)
    cancel: str | None = None  # parameter: a threading.Event that stops a streamed call
    streams: bool = False  # the function yields updates (a reply as it grows)
    # After a replica was lost: the arguments that finish the call, given what was delivered so far
    # (None: run it again whole; seeds are fixed at the front, so the pixels are the same).
    rest: Callable[[dict[str, Any], list[Any]], dict[str, Any]] | None = None

    def arguments(self, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The call's arguments by name (defaults filled in), without the StudioContext."""
        bound = _signature(self.fn).bind(None, *args, **kwargs)
        bound.apply_defaults()
        named = dict(bound.arguments)
        named.pop(next(iter(named)))  # the StudioContext: each replica has its own
        return named


@functools.lru_cache(maxsize=None)
def _signature(fn: Callable[..., Any]) -> inspect.Signature:
    return inspect.signature(fn)


def replicated(name: str, route: Callable[[dict[str, Any]], str], **marks: Any) -> Callable:
    """Mark ``fn(studio, ...)`` as work a replica can run (see the module's docstring)."""

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in REGISTRY:
            raise ValueError(f"two replicated functions are named {name!r}")
        entry = REGISTRY[name] = Replicated(name, fn, route, **marks)

        @functools.wraps(fn)
        def call(studio: Any, *args: Any, **kwargs: Any) -> Any:
            cluster = getattr(studio, "cluster", None)
            if cluster is None or not cluster.in_use:
                return fn(studio, *args, **kwargs)
            return cluster.call(entry, entry.arguments(args, kwargs))

        call.here = fn  # type: ignore[attr-defined]  # this machine, whatever the setting (tests, replicas)
        return call

    return mark


def model_key(kind: str, model: Any = "", *extras: Any) -> str:
    """A routing key: the kind of model and its id ("" = the default), plus what else makes a
    replica's copy specific (a LoRA set)."""
    key = f"{kind}:{model or 'default'}"
    extra = ",".join(str(e) for e in extras if e)
    return f"{key}|{extra}" if extra else key
