"""The app as a teacher starts it for a class on Ray: `python app.py --ray auto --ray-replicas 2`.
It stays the one front door: calls made through it run on the replicas, their results are saved
in the caller's own folder on this machine, and the Models tab lists the replicas. When it stops,
its Ray and replicas stop with it."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from studio.progress import wait_until
from tests.cluster_processes import alive, descendants, processes
from tests.conftest import require_ray_serve, start_app, stop_app

require_ray_serve()

CHROMIUM = os.environ.get("STUDIO_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def ray_app(tiny_cache_dir, tmp_path_factory):
    app = start_app(["--ray", "auto", "--ray-replicas", "2"], tiny_cache_dir, tmp_path_factory.mktemp("ray-app"),
                    timeout=180)
    yield app
    stop_app(app)


@pytest.fixture(scope="module")
def client(ray_app):
    from gradio_client import Client

    return Client(ray_app.url, verbose=False)


def test_the_app_says_where_gpu_work_runs(ray_app, client):
    assert "Ray Serve: GPU work runs on 2 replica(s) at auto" in ray_app.log()
    status = client.predict(api_name="/cluster_status")
    assert status["in_use"] is True and status["problem"] is None and status["address"] == "auto"


def test_images_drawn_on_the_replicas_are_saved_in_the_callers_folder_here(ray_app, client):
    answer = client.predict(prompt="a lighthouse", width=256, height=256, steps=2, seed=9, image_number=2,
                            api_name="/generate_image")
    assert [image["seed"] for image in answer["images"]] == [9, 10]
    names = {image["file_name"] for image in answer["images"]}
    saved = {path.name: path for path in Path(ray_app.outputs).glob("images/*/*/*.png")}
    assert names <= set(saved)
    assert len({saved[name].parent.parent for name in names}) == 1  # one owner's folder

    def reports() -> list[dict]:
        return client.predict(api_name="/cluster_status")["replicas"]

    # Each replica reports every few seconds (the first report waits for its torch import).
    deadline = time.monotonic() + 60
    while not (len(reports()) == 2 and sum(r["served"] for r in reports()) >= 1) and time.monotonic() < deadline:
        time.sleep(0.5)
    replicas = reports()
    assert len(replicas) == 2 and sum(r["served"] for r in replicas) >= 1
    assert any(m["model"] == "tiny:sdxl" for r in replicas for m in r["models"])


def test_the_models_tab_lists_the_replicas(ray_app, client):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}; .ci/run installs Debian's chromium.")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    replicas = [r["replica"] for r in client.predict(api_name="/cluster_status")["replicas"]]
    assert len(replicas) == 2
    seen: dict[str, object] = {}

    def walk() -> None:  # its own thread: playwright's sync API keeps an event loop in the thread it runs in
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                                  "--disable-dev-shm-usage"])
                page = browser.new_page(locale="en-US", viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(30_000)
                page.goto(ray_app.url)
                page.wait_for_selector("#studio-title")
                page.get_by_role("tab", name="Models").click()
                status = page.locator("#models-cluster-status")
                status.get_by_text("GPU work runs on the Ray cluster").wait_for()
                seen["status"] = status.inner_text()
                page.get_by_role("button", name="Refresh replicas").click()
                table = page.locator("#models-replicas")
                deadline = time.monotonic() + 20
                while not all(r in table.inner_text() for r in replicas) and time.monotonic() < deadline:
                    time.sleep(0.3)
                seen["table"] = table.inner_text()
                seen["where"] = page.locator("#models-cluster-where input:checked").get_attribute("value")
                browser.close()
        except BaseException as exc:  # noqa: BLE001 - raised in the test's thread below
            seen["error"] = exc

    thread = threading.Thread(target=walk)
    thread.start()
    thread.join(120)
    if "error" in seen:
        raise seen["error"]
    assert "2 replica(s)" in seen["status"]
    assert all(replica in seen["table"] for replica in replicas), seen["table"]
    assert "Loaded models" in seen["table"]
    assert seen["where"] == "cluster"



def test_the_studios_own_ray_and_its_replicas_end_with_it(ray_app, client):
    # Last here: it stops the app. A service manager's stop (SIGTERM) as Ctrl-C: Serve's
    # application is deleted and the Ray that --ray auto started stops, nothing of it left running.
    replicas = {r["pid"] for r in client.predict(api_name="/cluster_status")["replicas"]}
    started = descendants(ray_app.process.pid)  # GCS, raylet, Ray's agents and workers, the replicas
    assert replicas and replicas <= started
    ray_app.process.terminate()
    assert ray_app.process.wait(30) == 0, ray_app.log()[-3000:]
    wait_until(lambda: not any(alive(pid) for pid in started), 20)
    left = {pid: processes().get(pid, (0, "?"))[1][:80] for pid in started if alive(pid)}
    assert not left, f"still running after the studio stopped: {left}"
