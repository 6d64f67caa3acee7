"""What every tab shares: error translation, GPU event options, per-session folders."""

from __future__ import annotations

import functools
import inspect
import logging
import os
import time
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import gradio as gr

from studio.context import StudioContext
from studio.errors import StudioError
from studio.ml_imports import import_ml_libraries
from studio.outputs import session_dir
from studio.progress import CancelFlag, Label, Progress
from studio.tools.fields import check_value, parameter_field
from tabs.i18n import Translator, page_language

if TYPE_CHECKING:
    from studio.models.cache import ModelCache
    from studio.settings import Settings

log = logging.getLogger("studio")
GPU_QUEUE = "gpu"
# Gradio lets this many GPU events in at once; beyond the GPU's own slots they wait in the studio's
# fair queue (where a student with many requests goes behind one with a single request), not in
# Gradio's first-come-first-served one. Below the event threads (app.EVENT_THREADS), so the page's
# light events always find a thread.
GPU_EVENTS_ADMITTED = 32


class TabContext:
    """What ``build(ctx)`` receives: the studio context plus the UI translator."""

    def __init__(self, studio: StudioContext, translate: Translator):
        from tabs.send_to import SendTo

        self.studio = studio
        self.t = translate
        self.send_to = SendTo()  # image tabs register targets and sources; wired once all exist
        self.browser_id = None  # the gr.BrowserState holding this browser's id (set by build_app)
        self.after_load: list[tuple[Callable, list]] = []  # (fn(browser_id), outputs) run on page load
        self.main_tabs = None  # the page's gr.Tabs (set by build_app before the tabs are built)
        self.image_restore = None  # (fn(png path), outputs): a PNG's settings into the Image tab (tabs.image)

    @property
    def settings(self) -> Settings:
        return self.studio.settings

    @property
    def cache(self) -> ModelCache:
        return self.studio.cache

    @property
    def results_vanish(self) -> bool:
        """On a Hugging Face Space without persistent storage: what the studio writes is lost on
        restart, and the page must say so."""
        return bool(os.environ.get("SPACE_ID")) and self.settings.data is None



class Refusal(gr.Error):
    """A StudioError as Gradio shows it. It is a ``gr.Error`` (the only error ZeroGPU's fork hands
    back whole) that keeps the refusal itself, key and values: the GPU's part words it without a
    reader, and the page's handler words it again in its reader's language."""

    def __init__(self, error: StudioError, message: str, title: str = "Error"):
        super().__init__(message, title=title, print_exception=False)
        self.error = error

    def __reduce__(self) -> tuple:
        return Refusal, (self.error, self.message, self.title)


def _request_of(args: tuple, kwargs: dict) -> gr.Request | None:
    found = kwargs.get("request")
    if isinstance(found, gr.Request):
        return found
    return next((a for a in args if isinstance(a, gr.Request)), None)


def _as_gradio_error(exc: BaseException, request: gr.Request | None = None) -> gr.Error:
    """The sentence for ``exc`` in the reader's language (a StudioError with a key), under a title
    in that language too."""
    say = page_language(request)
    title = say("app.error_title")
    if isinstance(exc, Refusal):  # worded where it was raised (a GPU worker knows no reader): word it again
        return Refusal(exc.error, exc.error.worded(say), title) if request is not None else exc
    if isinstance(exc, gr.Error):
        if getattr(exc, "title", "Error") == "Error":
            exc.title = title
        return exc
    if isinstance(exc, StudioError):
        return Refusal(exc, exc.worded(say), title)
    log.exception("unexpected error in an event")
    return gr.Error(say("app.unexpected").format(error=f"{type(exc).__name__}: {str(exc)[:300]}"), title=title)


def friendly(fn: Callable) -> Callable:
    """Turn StudioError (and any surprise) into gr.Error with a readable sentence, after the
    arguments its type hints describe are checked (``checked_arguments``).

    Every event first waits for the ML libraries to be imported once (in the background
    right after start-up): their first import is not safe from several threads at once.
    """
    check = checked_arguments(fn)
    if inspect.iscoroutinefunction(fn):  # runs on the server's loop (/server_health): no thread needed

        @functools.wraps(fn)
        async def async_wrapper(*args, **kwargs):
            try:
                args, kwargs = check(args, kwargs)
                return await fn(*args, **kwargs)
            except Exception as exc:
                raise _as_gradio_error(exc, _request_of(args, kwargs)) from exc

        return async_wrapper
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            try:
                args, kwargs = check(args, kwargs)
                import_ml_libraries()
                yield from fn(*args, **kwargs)
            except Exception as exc:
                raise _as_gradio_error(exc, _request_of(args, kwargs)) from exc

        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            args, kwargs = check(args, kwargs)
            import_ml_libraries()
            return fn(*args, **kwargs)
        except Exception as exc:
            raise _as_gradio_error(exc, _request_of(args, kwargs)) from exc

    return wrapper


def checked_arguments(fn: Callable) -> Callable[[tuple, dict], tuple[tuple, dict]]:
    """The one check of what a script (or a page) sends: every argument whose type hint is a
    number, a ``Literal`` choice or a bool goes through ``studio.tools.fields.check_value``, so
    NaN, infinity, 1.5 steps and a 200,000-character choice get the same short sentence in every
    endpoint. JSON carries NaN and Gradio's server takes it; nothing else stands in its way.
    An argument that is None is left to the function (it means "the default" there). A declared
    tool's endpoint checks its own fields, aliases included (``fn.checks_its_fields``)."""
    if getattr(fn, "checks_its_fields", False):
        return lambda args, kwargs: (args, kwargs)
    signature = inspect.signature(fn)
    plan = {}
    for name, parameter in signature.parameters.items():
        default = None if parameter.default is inspect.Parameter.empty else parameter.default
        field = parameter_field(name, _hint(fn, parameter.annotation), default)
        if field is not None:
            plan[name] = field
    if not plan:
        return lambda args, kwargs: (args, kwargs)

    def check(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        try:
            bound = signature.bind_partial(*args, **kwargs)
        except TypeError:  # not this function's arguments: Gradio's own refusal follows
            return args, kwargs
        for name, field in plan.items():
            if bound.arguments.get(name) is not None:
                bound.arguments[name] = check_value(field, bound.arguments[name])
        return bound.args, bound.kwargs

    return check


def _hint(fn: Callable, annotation: Any) -> Any:
    """One parameter's type hint, evaluated on its own (``from __future__ import annotations``
    keeps them as text): a hint naming a local class is skipped, not the whole function."""
    if not isinstance(annotation, str):
        return None if annotation is inspect.Parameter.empty else annotation
    namespace = getattr(inspect.unwrap(fn), "__globals__", {})
    try:
        return eval(annotation, dict(namespace), {"typing": typing})  # noqa: S307 - the module's own source
    except Exception:
        return None


CANCEL_WAIT_SECONDS = 3.0


def cancellable_run(ctx: TabContext, triggers: list[Callable], fn: Callable, inputs: set, outputs: list,
                    flag: gr.State, status: gr.Markdown) -> list:
    """Wire a GPU run (a generator of updates, in the server process) that a Cancel button
    (``wire_cancel``) stops within a step. ``fn(values, ...)`` finds the run's ``CancelFlag`` as
    ``values[flag]`` and hands it to its ``studio.runs.Run`` (``tabs.gpu.GpuWork.start``).

    Each trigger first arms a fresh flag (unqueued, at once), so Cancel works from the press of
    the button, also while the run still waits in the queue; the run always reaches its own end
    and says what was saved (Gradio's ``cancels=`` killed the generator in mid-run instead, and
    the status stayed at "Cancelling…" for good). Returns the run events."""

    def arm() -> CancelFlag:
        return CancelFlag()

    @functools.wraps(fn)
    def run(values: dict, *args: Any, **kwargs: Any):
        current = values[flag] = values.get(flag) or CancelFlag()
        if current.is_set():  # cancelled while it waited in the queue
            current.end()
            request = kwargs.get("request") or next((a for a in args if isinstance(a, gr.Request)), None)
            yield {status: ctx.t.for_request(request)("app.cancelled_before_start")}
            return
        # The run ends the flag when its work has stopped, not when this page stops listening:
        # a reloaded page gets the flag back, and its Cancel must still reach the work.
        try:
            yield from fn(values, *args, **kwargs)
        except Exception as exc:  # the status line says why as well, not "Starting…" beside the error
            said = _as_gradio_error(exc, _request_of(args, kwargs))
            yield {status: f"> {said.message}"}
            raise said from exc

    return [
        trigger(arm, None, flag, queue=False, api_visibility="private", show_progress="hidden")
        .then(friendly(run), set(inputs) | {flag}, outputs, api_visibility="private",
              show_progress="minimal", **gpu_event(ctx))
        for trigger in triggers
    ]


def wire_cancel(ctx: TabContext, button: gr.Button, flag: gr.State, status: gr.Markdown) -> None:
    """``button`` stops the run that ``flag`` belongs to (see ``cancellable_run``); pressed when
    no run is going, it changes nothing."""

    def cancel(current: CancelFlag | None, request: gr.Request = None):
        if current is None or current.is_set() or current.ended:
            return gr.skip()
        current.set()
        # The run stops within a step and says how it ended. This answer travels apart from the
        # run's own updates: sent after them, "Cancelling…" would stay over "Cancelled: …" for good.
        # So it waits a moment for the run to end, and then says nothing.
        deadline = time.monotonic() + CANCEL_WAIT_SECONDS
        while time.monotonic() < deadline:
            if current.ended:
                return gr.skip()
            time.sleep(0.05)
        return ctx.t.for_request(request)("app.cancelling")

    button.click(cancel, flag, status, queue=False, api_visibility="private", show_progress="hidden")


def gpu_event(ctx: TabContext) -> dict[str, Any]:
    """Event options for GPU work: one shared Gradio queue. Gradio lets in more events than the GPU
    has slots: beyond them, runs wait in the studio's fair queue (``tabs.gpu``), which serves
    students in turn and holds a slot until the work has really stopped."""
    return {"concurrency_id": GPU_QUEUE, "concurrency_limit": max(ctx.studio.gpu_slots(), GPU_EVENTS_ADMITTED)}


def session_folder(ctx: TabContext, request: gr.Request | None) -> Path:
    """This user's outputs folder for today; other sessions never see it."""
    session = getattr(request, "session_hash", None) or "script"
    return session_dir(ctx.settings.outputs, session)


def progress_update(event: Progress, progress: Callable, status: gr.Markdown, preview: gr.Image, unit: str = "",
                    line: str | None = None, say: Callable[[str], str] | None = None) -> dict:
    """Show one ``studio.progress.Progress`` event: Gradio's bar, the status line and, when the
    work sent one, the live preview. ``unit`` names what is counted ("step "); ``line`` is the
    status line already in the reader's language, when the tab words it itself; ``say`` words
    the event's label in the reader's language."""
    label = worded(event.label, say)
    progress(event.fraction, desc=f"{label}: {unit}{event.step}/{event.total}")
    update = {status: line or f"{label} · {unit}{event.step} / {event.total}"}
    if event.preview is not None:
        update[preview] = event.preview
    return update


def worded(label: Label | str, say: Callable[[str], str] | None = None) -> str:
    """A progress label (``studio.progress.Label``, or plain text) in the reader's language."""
    return label.worded(say) if isinstance(label, Label) else str(label)


def uploaded(value: Any, what: str) -> str:
    """A file a script sent to the API: one Gradio received (in its upload / cache folder, as
    gradio_client's handle_file() sends it), never a path on the server's own disk that a script
    names, which could be another user's outputs. ``what`` names it in the sentence ("the image
    to upscale"). UI components need no such check: Gradio hands them its own copies."""
    from gradio.utils import get_upload_folder

    path = value.get("path") if isinstance(value, dict) else getattr(value, "path", None) or value
    said = what[:1].upper() + what[1:]
    if not isinstance(path, str) or not path.strip():
        raise gr.Error(f"{said} is missing: send it with gradio_client's handle_file().", print_exception=False)
    try:
        resolved = Path(path).resolve()
        inside = Path(get_upload_folder()).resolve() in resolved.parents
    except (OSError, ValueError):  # a NUL byte, a loop of links: not an upload either
        inside = False
    if not inside:
        raise gr.Error(f"{said} must be uploaded (gradio_client's handle_file()), not named by a path on the server.",
                       print_exception=False)
    return str(resolved)

