"""GPU work on a real local Ray Serve instance (no mock of Ray): two CPU replicas on the tiny
twins, started once for this module (Ray's start takes seconds).

What is checked: calls spread over both replicas; a seed's pixels equal this machine's; calls for
a checkpoint stay on the replica that loaded it (by the replicas' own cache counts); results are
saved in the owner's folder at the front; a replica killed mid-call is survived with the same
pixels; Cancel stops the work on the replica within a step; text streams; a cluster that cannot
be reached says so within its time limit, and the work runs here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import require_ray_serve

require_ray_serve()

from studio.image.generate import generate_images  # noqa: E402
from studio.image.request import ImageRequest  # noqa: E402
from studio.progress import Cancelled, Progress, Task, wait_until  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# Checkpoints no other test here draws with (their twins in the tiny profile).
SD15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"
Z_IMAGE = "Tongyi-MAI/Z-Image-Turbo"


def small(**fields) -> ImageRequest:
    return ImageRequest(**{"prompt": "a red fox in snow", "width": 256, "height": 256, "steps": 3, "seed": 11,
                           **fields})


@pytest.fixture(scope="module")
def cluster(tiny_settings, tmp_path_factory):
    import ray

    from studio.cluster.front import RayCluster, init_ray
    from studio.context import StudioContext
    from studio.settings import with_overrides

    init_ray("auto", num_cpus=4)  # logical CPUs: two replicas of one, and room for Serve's own actors
    settings = with_overrides(tiny_settings, ray="auto", ray_replicas=2, ray_replica_cpus=1)
    front = StudioContext(settings)
    front.cluster = RayCluster(settings)
    problem = front.cluster.start(timeout=120)
    assert problem is None, problem
    yield front
    front.cluster.stop()
    ray.shutdown()


@pytest.fixture
def owner_folder(tmp_path):
    folder = tmp_path / "images" / "student"
    folder.mkdir(parents=True)
    return folder


@contextmanager
def one_thread():
    """This machine's torch on one thread, as each one-CPU replica's: float sums then add up in
    the same order, and the pixels can be compared exactly."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def reports(front) -> list[dict]:
    return front.cluster.replicas()


def pixels(result) -> np.ndarray:
    return np.asarray(result.image)


def test_a_seed_draws_the_same_pixels_as_this_machine_and_is_saved_at_the_front(cluster, studio_ctx, owner_folder):
    remote = generate_images(cluster, small(image_number=2), owner_folder)
    with one_thread():
        local = generate_images.here(studio_ctx, small(image_number=2), None)
    assert [r.seed for r in remote] == [11, 12]
    for far, here in zip(remote, local):
        assert np.array_equal(pixels(far), pixels(here))
        assert far.path and Path(far.path).parent.parent == owner_folder and Path(far.path).is_file()
    assert len(list(owner_folder.glob("*/*.png"))) == 2


def test_eight_calls_from_four_sessions_are_spread_over_both_replicas(cluster, tmp_path):
    before = dict(cluster.cluster.calls_by_replica)
    folders = [tmp_path / f"session-{i}" for i in range(4)]
    results: dict[int, list] = {}
    errors: list[BaseException] = []

    def student(number: int) -> None:
        try:
            folders[number % 4].mkdir(exist_ok=True)
            results[number] = generate_images(cluster, small(seed=100 + number, steps=4), folders[number % 4])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=student, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert not errors, errors
    assert sorted(results) == list(range(8))
    served = {replica: count - before.get(replica, 0) for replica, count in cluster.cluster.calls_by_replica.items()}
    assert sum(served.values()) == 8
    assert len([count for count in served.values() if count > 0]) == 2, served
    for folder in folders:  # each session's two images, in its own folder
        assert len(list(folder.glob("*/*.png"))) == 2


def test_calls_for_a_checkpoint_stay_on_the_replica_that_loaded_it(cluster, owner_folder):
    served_before = sum(r["served"] for r in reports(cluster))
    for _ in range(3):
        for checkpoint in (SD15, Z_IMAGE):
            generate_images(cluster, small(checkpoint=checkpoint, steps=2), owner_folder)
    assert wait_until(lambda: sum(r["served"] for r in reports(cluster)) >= served_before + 6, 10)
    holders: dict[str, list[tuple[str, int]]] = {}
    for report in reports(cluster):
        for model in report["models"]:
            if model["name"] == "image" and model["model"] != "tiny:sdxl":
                holders.setdefault(model["model"], []).append((report["replica"], model["hits"]))
    # Each checkpoint was loaded on one replica only, and its two later calls found it loaded there.
    assert len(holders) == 2 and all(len(held) == 1 for held in holders.values()), holders
    assert all(held[0][1] >= 2 for held in holders.values()), holders


def test_cancel_stops_the_work_on_the_replica_within_a_step(cluster, owner_folder):
    task = Task(lambda task: generate_images(cluster, small(steps=150, image_number=4), owner_folder, task))
    events = task.events()
    steps_seen = 0
    with pytest.raises(Cancelled):
        for event in events:
            if isinstance(event, Progress):
                steps_seen = event.step
                if steps_seen >= 2:
                    task.cancel()
    assert steps_seen < 60
    # Stopped there too: no replica is still running it.
    assert wait_until(lambda: all(r["running"] == 0 for r in reports(cluster)), 15)
    assert list(owner_folder.glob("*/*.png")) == []


def test_a_replica_killed_mid_call_is_survived_with_the_same_pixels(cluster, studio_ctx, owner_folder):
    import ray

    from studio.cluster import retried

    request = small(steps=60, image_number=2, seed=500)
    task = Task(lambda task: generate_images(cluster, request, owner_folder, task))
    killed: list[str] = []
    labels_after: list = []
    results = None
    for event in task.events():
        if isinstance(event, Progress) and not killed and event.step >= 3:
            (busy,) = cluster.cluster.running.values()  # the replica that took the call
            assert wait_until(lambda: any(r["replica"] == busy for r in reports(cluster)), 30)
            actor = next(r["actor"] for r in reports(cluster) if r["replica"] == busy)
            ray.kill(ray.get_actor(actor, namespace="serve"), no_restart=True)
            killed.append(busy)
        elif isinstance(event, Progress) and killed:
            labels_after.append(event.label)
        elif hasattr(event, "value"):
            results = event.value
    assert killed
    # The list drops it at once (not after the board's silence rule), and the user was told.
    assert killed[0] not in [r["replica"] for r in reports(cluster)]
    assert labels_after and all(isinstance(label, retried.RetriedLabel) for label in labels_after), labels_after
    assert all(retried.NOTE in result.notes for result in results)  # both drawn on the second replica
    with one_thread():
        local = generate_images.here(studio_ctx, request, None)
    assert [r.seed for r in results] == [500, 501]
    assert all(np.array_equal(pixels(far), pixels(here)) for far, here in zip(results, local))
    assert len(list(owner_folder.glob("*/*.png"))) == 2  # each image once
    # Ray Serve puts a new replica in its place.
    assert wait_until(lambda: len([r for r in reports(cluster) if r["replica"] not in killed
                                   and r["heard_seconds_ago"] < 5]) == 2, 60)


def test_a_bad_request_is_refused_with_the_replicas_own_sentence(cluster):
    from studio.errors import BadInput

    with pytest.raises(BadInput, match="Sampler"):
        generate_images(cluster, small(scheduler="no such sampler"), None)


def test_text_streams_from_a_replica_and_matches_this_machine(cluster, studio_ctx):
    from studio.text.generate import stream_local
    from studio.text.results import GenerationRequest
    from studio.text.sampling import SamplingSettings

    request = GenerationRequest(prompt="Hello", settings=SamplingSettings(decoding="greedy", max_new_tokens=8), seed=3)
    updates = list(stream_local(cluster, request))
    with one_thread():
        local = list(stream_local.here(studio_ctx, request))
    assert len(updates) > 1 and updates[-1].result is not None
    assert updates[-1].text == local[-1].text


def test_a_cluster_that_cannot_be_reached_says_so_in_time_and_the_work_runs_here(tiny_settings, tmp_path):
    script = (
        "import sys, time, os\n"
        "from studio.settings import with_overrides\n"
        "from studio.context import StudioContext\n"
        "from studio.cluster.front import RayCluster\n"
        "from studio.image.generate import generate_images\n"
        "from studio.image.request import ImageRequest\n"
        "from studio.settings import load_settings\n"
        "s = load_settings(['--profile', 'tiny', '--cache-dir', sys.argv[1], '--ray', '127.0.0.1:9'], env={})\n"
        "studio = StudioContext(s); studio.cluster = RayCluster(s)\n"
        "started = time.monotonic(); problem = studio.cluster.start(timeout=8)\n"
        "print('waited', round(time.monotonic() - started, 1)); print('problem', problem)\n"
        "r = generate_images(studio, ImageRequest(prompt='x', width=256, height=256, steps=1, seed=1), None)\n"
        "print('made_here', r[0].image.size, flush=True); os._exit(0)\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(tiny_settings.cache_dir)], capture_output=True, text=True,
                         cwd=ROOT, timeout=240, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in out.stdout.strip().splitlines())
    assert float(lines["waited"]) < 12
    assert "127.0.0.1:9" in lines["problem"] and "this machine" in lines["problem"]
    assert lines["made_here"] == "(256, 256)"
