"""GPU work, as every tab starts it: plain values in, plain values out, one fair queue.

A tab's GPU function (a "body") takes plain values (a request dataclass, a folder, a Cancel
flag) and returns or yields plain values (``studio.progress`` events, text updates, results).
On a ZeroGPU Space it runs in a forked worker with everything pickled across (``spaces.GPU``);
with ``--zero-gpu-emulate`` it takes that very path on this machine (``tabs.zero_gpu_twin``);
elsewhere it simply runs here. The tab's event handler stays in the server process: it turns
component values into the body's arguments, and the body's events into component updates.

Every body runs as a ``studio.runs.Run``: it waits its turn in the studio's fair GPU queue (so a
class takes turns by student), and it stops when its Cancel is pressed or when the page or API
call that asked for it is gone.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any, Callable, Iterator

import gradio as gr

from studio import zero_gpu
from studio.progress import CancelFlag
from studio.runs import Run
from tabs import roles
from tabs.common import TabContext, friendly

log = logging.getLogger("studio")

RELOAD_GRACE_SECONDS = 20.0  # a UI run whose page went away waits this long for a reload to follow it


def for_zero_gpu(ctx: TabContext, body: Callable, work: Callable[[dict[str, Any]], float] | None = None) -> Callable:
    """``body`` as ZeroGPU runs it (``spaces.GPU``, or its twin), asking for the seconds ``work``
    estimates from the call's arguments (by parameter name), or a light call's default. Errors
    become sentences inside the worker: only a ``gr.Error`` crosses back whole."""
    wrapped = friendly(body)
    if not zero_gpu.forks(ctx.settings):
        return wrapped
    if work is None:
        duration: int | Callable[..., int] = zero_gpu.DEFAULT_SECONDS
    else:
        signature = inspect.signature(body)

        def named_work(*args: Any, **kwargs: Any) -> float:
            bound = signature.bind_partial(*args, **kwargs)
            bound.apply_defaults()
            return work(dict(bound.arguments))

        duration = zero_gpu.duration_of(named_work)
    if zero_gpu.emulated(ctx.settings):
        from tabs import zero_gpu_twin

        return zero_gpu_twin.gpu(wrapped, duration)
    try:
        import spaces
    except ImportError:
        log.warning("On a ZeroGPU Space without the spaces package: %s runs without a GPU.", body.__name__)
        return wrapped
    return spaces.GPU(wrapped, duration=duration)


def event_alive() -> Callable[[], bool]:
    """Whether the Gradio event being handled (in this thread's context) is still wanted: false
    once its page closed or its API call was cancelled. Always true outside an event."""
    from gradio.context import LocalContext

    event_id = LocalContext.event_id.get(None)
    gradio_queue = getattr(LocalContext.blocks.get(None), "_queue", None)
    events = getattr(gradio_queue, "event_ids_to_events", None)
    if event_id is None or events is None:
        return lambda: True

    def alive() -> bool:
        event = events.get(event_id)
        return event is not None and getattr(event, "alive", True)

    return alive


class GpuWork:
    """One GPU function of a tab. ``start`` runs a streaming body (it takes ``cancel``, a
    ``CancelFlag``, and yields events) as a ``Run``; ``call`` runs a light one (a plain function)
    in its turn and returns its value."""

    def __init__(self, ctx: TabContext, body: Callable, work: Callable[[dict[str, Any]], float] | None = None):
        self.ctx = ctx
        self.name = body.__name__
        self.function = for_zero_gpu(ctx, body, work)

    def start(self, request: gr.Request | None, owner: str, what: str, *args: Any, flag: CancelFlag | None = None,
              grace: float = 0.0, **kwargs: Any) -> Run:
        """Queue the body with these arguments (plus ``cancel``); ``grace``: seconds a run whose
        caller went away waits for a reload to follow it (0: it stops at once)."""
        studio = self.ctx.studio
        return Run(studio.gpu_queue, owner, what, lambda cancel: self.function(*args, cancel=cancel, **kwargs),
                   flag=flag, exempt=roles.is_teacher(self.ctx, request), grace=grace, name=f"studio-{self.name}",
                   who=shown_name(request, owner))

    def call(self, request: gr.Request | None, owner: str, what: str, *args: Any, capped: bool = False,
             **kwargs: Any) -> Any:
        """Run a plain body in its turn and return its value. ``capped``: it counts in a student's
        limit of runs at once (heavy work); light calls (a preview, a table) do not."""
        studio = self.ctx.studio
        run = Run(studio.gpu_queue, owner, what, lambda cancel: self.function(*args, **kwargs),
                  exempt=roles.is_teacher(self.ctx, request), capped=capped, name=f"studio-{self.name}",
                  who=shown_name(request, owner))
        return run.result(event_alive())


def shown_name(request: gr.Request | None, owner: str) -> str:
    """The name the teacher's view shows for a run: the login (a class-password student types
    their own), else the start of the owner key."""
    return str(getattr(request, "username", None) or "")[:40] or owner[:20]


def run_events(run: Run) -> Iterator[Any]:
    """The run's events for the handler that started it, stopping it if the page goes away."""
    return run.events(event_alive())
