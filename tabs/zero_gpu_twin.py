"""ZeroGPU's fork-and-pickle path, on a machine without ZeroGPU (``--zero-gpu-emulate``).

On a ZeroGPU Space, ``spaces.GPU`` runs each call in a forked worker: the call's arguments go
through a pickling queue, every value it returns or yields comes back through another, and a
generator the server closes is stopped through a multiprocessing event. That code is the
``spaces`` package's own (``spaces.zero.wrappers``) and needs no CUDA; only two pieces around it
do: the scheduler (an HTTP API that lends a GPU slice and counts each visitor's quota) and the
torch patches (which pack weights and move them onto the slice). The twin runs ``spaces``' own
wrappers with those two replaced by stand-ins, so a call takes the very path it takes on a
Space, on the CPU. The durations calls ask for are recorded for tests.
"""

from __future__ import annotations

import sys
import threading
import types
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    import gradio as gr
    from spaces.zero.api import GPUSize, ScheduleResponse

_lock = threading.Lock()
_installed = False
# Each call's asked-for seconds, in call order (what ZeroGPU would have scheduled).
durations: list[float] = []


def _stand_in_torch() -> types.ModuleType:
    """``spaces.zero.torch`` without CUDA: there are no packed weights to move onto a slice."""
    module = types.ModuleType("spaces.zero.torch")
    for name in ("patch", "unpatch", "init", "move", "enter_mode"):
        setattr(module, name, lambda *args, **kwargs: None)
    module.size = lambda: 0
    module.pack = lambda: 0
    module.is_in_bad_fork = lambda: False
    return module


def _schedule(task_id: int, request: gr.Request | None = None, duration: timedelta | None = None,
              gpu_size: GPUSize | None = None, **_: Any) -> ScheduleResponse:
    """The scheduler's answer, at once: one slice, index 0, always idle (so a finished worker is
    reused, as ZeroGPU reuses it)."""
    from spaces.zero.api import ScheduleResponse

    durations.append(duration.total_seconds() if duration is not None else 60.0)
    return ScheduleResponse(idle=True, nvidiaIndex=0, nvidiaUUID="twin", allowToken="twin")


def install() -> None:
    """Swap the CUDA and network pieces of ``spaces`` for stand-ins (once per process)."""
    global _installed
    with _lock:
        if _installed:
            return
        import spaces.zero

        torch_stand_in = _stand_in_torch()
        sys.modules["spaces.zero.torch"] = torch_stand_in
        spaces.zero.torch = torch_stand_in  # type: ignore[attr-defined]
        from spaces.zero import client

        client.schedule = _schedule
        client.allow = lambda allow_token: None
        client.release = lambda allow_token, fail=False, allow_404=False: None
        client.duration_warning = lambda: None
        client.get_duration_seconds = lambda duration, gpu_size=None: (
            duration.total_seconds() if duration is not None else 60.0)
        _installed = True


def gpu(task: Callable, duration: int | Callable[..., int]) -> Callable:
    """What ``spaces.GPU(task, duration=...)`` returns on a ZeroGPU Space."""
    import inspect

    install()
    from spaces.zero import wrappers

    if inspect.isgeneratorfunction(task):
        return wrappers.generator_function_wrapper(task, duration, None)
    return wrappers.regular_function_wrapper(task, duration, None)
