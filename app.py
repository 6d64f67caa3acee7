"""GenAI Studio: `python app.py --help` for every option."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, Callable

# Seconds a turned-away browser is told to wait (Retry-After) before asking again.
RETRY_AFTER_SECONDS = 30
WORKER_IDLE_SECONDS = 600
PAGE_ROUTE_THREADS = 4
EVENT_THREADS = 48
GIL_SWITCH_SECONDS = float(os.environ.get("STUDIO_GIL_SWITCH_SECONDS", "0.001"))


def main(argv: list[str] | None = None) -> int:
    from studio.settings import SettingsError, load_settings

    try:
        settings = load_settings(sys.argv[1:] if argv is None else argv)
        from studio.models.catalog import check_overrides

        check_overrides(settings)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings, said = class_logins(settings)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if settings.is_tiny:
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the tiny profile never needs the Hub

    from studio import zero_gpu

    if zero_gpu.active():
        import spaces  # noqa: F401  - on ZeroGPU, before anything touches CUDA (its rule)

    import tabs
    from studio.context import StudioContext

    studio = StudioContext(settings)
    if settings.ray:  # before the tabs: the GPU queue's limit counts the replicas
        from studio.cluster.front import RayCluster

        studio.cluster = RayCluster(settings)
        problem = studio.cluster.start()
        studio.cluster.close_on_exit()  # --ray auto: the studio's replicas and Ray end with it
        print(problem or f"Ray Serve: GPU work runs on {studio.cluster.replica_count} replica(s) at {settings.ray}",
              flush=True)
    if zero_gpu.forks(settings):
        print(f"ZeroGPU: loaded {', '.join(studio.load_at_start())} before the first call", flush=True)
    if settings.device != "auto":  # an explicit device is checked before anyone connects
        try:
            studio.cache.device
        except SettingsError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    demo = tabs.build_app(studio)
    from studio import gc_tuning

    gc_tuning.settle(full=True)  # the app's own objects (hundreds of components) are never walked again
    gc_tuning.keep_freezing()
    keep_worker_threads()
    share_the_gil()
    demo.extra_startup_events.append(start_worker_threads)
    demo.queue(**queue_options(settings))
    options = tabs.launch_options(demo, studio)
    # Not Gradio's default of 40: with 40 its events share anyio's default limiter, which
    # start_worker_threads narrows to the page's own routes.
    options["max_threads"] = EVENT_THREADS
    handlers = options.setdefault("app_kwargs", {}).setdefault("exception_handlers", {})
    handlers.update(queue_full_handlers(settings.queue_size, settings.lang))
    if said:
        print(said, flush=True)
    if settings.is_exposed and settings.has_logins and not settings.admins():
        print("warning: no teacher login (--admin USER): nobody can free memory, change the class's limits "
              "or cancel another person's run.", file=sys.stderr)
    _, local_url, share_url = demo.launch(prevent_thread_lock=True, quiet=True, **options)
    print(f"GenAI Studio running at {local_url}", flush=True)
    if share_url:
        print(f"Public link (temporary): {share_url}", flush=True)
    # Resolved after the server is up, so torch is not on the start-up path.
    print(f"profile: {settings.profile} · device: {studio.describe_device()}", flush=True)
    try:
        demo.block_thread()
    except KeyboardInterrupt:
        pass
    return 0


def class_logins(settings: Any) -> tuple[Any, str]:
    """--share with no login at all: a random class password for the students and a teacher login,
    both printed (the teacher sees the class password again in the Teacher tab). Anyone with the
    link would otherwise use this machine as its owner."""
    import secrets

    from studio.settings import with_overrides

    if not settings.share or settings.has_logins:
        return settings, ""
    class_password, teacher_password = secrets.token_urlsafe(6), secrets.token_urlsafe(9)
    settings = with_overrides(settings, class_password=class_password, auth=(f"teacher:{teacher_password}",),
                              admin=("teacher",))
    return settings, (f"Class password (any user name): {class_password}\n"
                      f"Teacher login: teacher / {teacher_password}")


def share_the_gil() -> None:
    """Hand the GIL round more often. The event loop's thread answers every upload and queue join,
    and it needs the GIL for each; when worker threads run Python (a page's config being copied
    and rendered, results' JSON) it waited up to 5 ms per turn behind each of them, and lost
    several turns in a row under a class's load (benchmarks/class_load.py)."""
    sys.setswitchinterval(GIL_SWITCH_SECONDS)


def keep_worker_threads() -> None:
    """Gradio runs each event in a worker thread from anyio's pool, which ends threads idle for
    10 s; a class's bursts then start new ones, and the event loop waits for each to start
    (0.3 s and more on a busy 2-core machine: benchmarks/class_load.py). Kept for 10 minutes,
    the pool stays warm between bursts."""
    from anyio._backends._asyncio import WorkerThread

    WorkerThread.MAX_IDLE_TIME = WORKER_IDLE_SECONDS


async def start_worker_threads() -> None:
    """Start the worker pool's threads at launch, while the machine is quiet, instead of one by
    one when a class's first calls arrive (each start holds the event loop until the thread runs).

    Then cap the page's own routes (the app's config, API info, file reads: anyio's default
    limiter; events have Gradio's own): when a class opens the page at once, each config is a
    deep copy and a render of half a megabyte, and thirty of them side by side left the event
    loop's thread one GIL turn in thirty. A few at a time finish as soon, one after another."""
    import asyncio
    import time

    import anyio

    limiter = anyio.to_thread.current_default_thread_limiter()
    threads = int(limiter.total_tokens)
    await asyncio.gather(*(anyio.to_thread.run_sync(time.sleep, 0.2) for _ in range(threads)))
    limiter.total_tokens = PAGE_ROUTE_THREADS


def queue_options(settings: Any) -> dict[str, Any]:
    """Arguments for ``demo.queue``. GPU events have their own shared limit (tabs.common.gpu_event);
    light CPU events (tokenizing, status) may run side by side. --queue-size caps how many
    requests may wait, so a shared link cannot queue without limit."""
    return {"default_concurrency_limit": max(8, settings.concurrency), "max_size": settings.queue_size}


def queue_full_handlers(queue_size: int, lang: str) -> dict[Any, Callable]:
    """FastAPI exception handlers that tell a student turned away by a full queue what happened.

    Gradio answers a full queue with HTTP 503, which its web page shows as a generic "This
    application is currently busy". Answered as 429 with a sentence, the page shows that
    sentence instead (in the browser's language). gradio_client keeps the 503: scripts get
    its own QueueError ("Queue is full!"), which they may catch to retry.
    """
    from fastapi.exception_handlers import http_exception_handler
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException

    from tabs.i18n import Translator

    translator = Translator(lang)

    async def explain_full_queue(request, exc: HTTPException):
        full = exc.status_code == 503 and str(exc.detail).startswith("Queue is full")
        from_script = "gradio_client" in request.headers.get("user-agent", "")
        if full and request.url.path.endswith("/queue/join") and not from_script:
            sentence = translator.for_request(request)("queue.full").format(waiting=queue_size)
            return JSONResponse(
                {"detail": sentence}, status_code=429, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
            )
        return await http_exception_handler(request, exc)

    return {HTTPException: explain_full_queue}


if __name__ == "__main__":
    sys.exit(main())
