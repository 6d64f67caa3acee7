"""What keeps the server answering under a class's load: the event-loop lag probe behind
/server_health, garbage collection that skips long-lived objects, and the class-load benchmark
itself (a short run against the running app)."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import threading
import time
import weakref

from studio import gc_tuning
from tabs.loop_lag import LoopLag
from tests.conftest import ROOT, hub_free_env


def test_the_probe_sees_a_loop_held_by_blocking_work():
    async def scenario():
        lag = LoopLag()
        await lag.start()
        await asyncio.sleep(0.35)
        time.sleep(0.4)  # blocking work on the loop, as a stalled server does
        await asyncio.sleep(0.25)
        return lag.report(seconds=5)

    found: list[dict] = []  # in a thread of its own: the browser tests' Playwright keeps a loop in this one
    runner = threading.Thread(target=lambda: found.append(asyncio.run(scenario())))
    runner.start()
    runner.join(timeout=30)
    report = found[0]
    assert report["watching"] and 0.3 <= report["loop_lag_worst_s"] <= 0.6
    assert report["loop_lag_worst_since_start_s"] == report["loop_lag_worst_s"] and report["window_s"] == 5


def test_settling_freezes_survivors_and_frees_a_dropped_models_cycles():
    class Part:
        pass

    model = Part()
    model.self_reference = model  # a reference cycle, as module graphs with hooks have
    alive = weakref.ref(model)
    try:
        gc_tuning.settle(full=True)
        assert gc.get_freeze_count() > 0  # survivors are frozen: collections skip them
        del model
        gc.collect()
        assert alive() is not None  # frozen: a plain collection does not free it
        gc_tuning.dropped()  # the cache let a model go
        gc_tuning.settle()
        assert alive() is None
    finally:
        gc.unfreeze()  # the rest of the suite collects as usual


def test_server_health_answers_through_the_api(api):
    report = api.predict(seconds=30, api_name="/server_health")
    assert report["watching"] and report["window_s"] == 30 and report["loop_lag_worst_s"] >= 0


def test_the_class_load_benchmark_runs_against_the_app(running_app):
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "class_load.py"), "--url", running_app.url, "--students", "2",
         "--seconds", "5"],
        cwd=ROOT, env=hub_free_env(), capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "2 students × 5 s" in run.stdout and ", 0 errors" in run.stdout and "event loop lag" in run.stdout
