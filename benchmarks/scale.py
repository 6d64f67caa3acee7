"""Scaling out on Ray Serve: images per minute for N users, on one replica and on two.

    python benchmarks/scale.py                      # 8 users, 2 images each per round, tiny profile, CPU
    python benchmarks/scale.py --users 8 --rounds 3 --size 512 --steps 8

A local Ray instance runs R replicas of one CPU each (R = 1, then 2) on the tiny twins; each of
the N users (threads, as Gradio's workers are) asks for one image after another through the
studio's own generate_images, with the front's GPU queue limit (--concurrency per replica) as
the app sets it. Printed: images per minute on each, the ratio of two replicas to one (the
target is >= 1.6), and beside them this machine without Ray (the same queue limit, torch on one
thread as in a one-CPU replica): Ray's added latency per request, and what it costs on one
machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def run_users(studio, users: int, images_each: int, slots: int, request_for, folder: Path, here: bool = False):
    """Every user's images, one after another; at most ``slots`` at once (the app's GPU queue).
    Returns (seconds, latencies of single images)."""
    from studio.image.generate import generate_images

    gate = threading.Semaphore(slots)
    latencies: list[float] = []
    errors: list[BaseException] = []
    draw = generate_images.here if here else generate_images

    def user(number: int) -> None:
        for image in range(images_each):
            with gate:
                started = time.perf_counter()
                try:
                    draw(studio, request_for(seed=1000 * number + image), folder)
                except BaseException as exc:  # noqa: BLE001 - counted and shown
                    errors.append(exc)
                    return
                latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"{len(errors)} error(s), first: {errors[0]!r}")
    return time.perf_counter() - started, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--images", type=int, default=2, help="images each user asks for, one after another")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=1, help="GPU events at once per replica (--concurrency)")
    args = parser.parse_args()

    import ray
    import torch

    from studio.cluster.front import RayCluster, init_ray
    from studio.context import StudioContext
    from studio.image.generate import generate_images
    from studio.image.request import ImageRequest
    from studio.settings import load_settings, with_overrides

    work = Path(tempfile.mkdtemp(prefix="studio-scale-"))
    base = load_settings(["--profile", "tiny", "--cache-dir", str(ROOT / ".cache" / "studio"),
                          "--outputs", str(work / "outputs"), "--concurrency", str(args.concurrency)], env={})
    folder = work / "outputs" / "images" / "bench"
    folder.mkdir(parents=True)

    def request_for(seed: int) -> ImageRequest:
        return ImageRequest(prompt="a lighthouse at dusk, oil painting", width=args.size, height=args.size,
                            steps=args.steps, seed=seed)

    # This machine, no Ray: one thread per image as a one-CPU replica has.
    torch.set_num_threads(1)
    local = StudioContext(base)
    generate_images.here(local, request_for(0), None)  # loaded, warm
    single_local = statistics.median(run_users(local, 1, 3, 1, request_for, folder, here=True)[1])
    seconds, _ = run_users(local, args.users, args.images, args.concurrency, request_for, folder, here=True)
    local_rate = args.users * args.images / seconds * 60

    init_ray("auto", num_cpus=max(2, os.cpu_count() or 2))
    rates: dict[int, float] = {}
    single_ray = 0.0
    for replicas in (1, 2):
        settings = with_overrides(base, ray="auto", ray_replicas=replicas, ray_replica_cpus=1)
        front = StudioContext(settings)
        front.cluster = RayCluster(settings)
        problem = front.cluster.start(timeout=180)
        if problem:
            raise SystemExit(problem)
        for _ in range(replicas * 3):  # every replica loaded and warm
            run_users(front, replicas, 1, replicas, request_for, folder)
        if replicas == 1:
            single_ray = statistics.median(run_users(front, 1, 3, 1, request_for, folder)[1])
        seconds, _ = run_users(front, args.users, args.images, args.concurrency * replicas, request_for, folder)
        rates[replicas] = args.users * args.images / seconds * 60
        front.cluster.stop()
    ray.shutdown()

    print(f"tiny SDXL twin, {args.size}x{args.size}, {args.steps} steps; {args.users} users x {args.images} images; "
          f"{os.cpu_count()} CPU cores")
    print(f"this machine, no Ray (1 thread): {local_rate:6.1f} images/min; one image alone {single_local:.3f} s")
    print(f"Ray, 1 replica of 1 CPU:        {rates[1]:6.1f} images/min; one image alone {single_ray:.3f} s")
    print(f"Ray, 2 replicas of 1 CPU each:  {rates[2]:6.1f} images/min")
    print(f"2 replicas / 1 replica: {rates[2] / rates[1]:.2f} (target >= 1.6)")
    print(f"Ray's added latency per image: {single_ray - single_local:+.3f} s "
          f"({single_ray / single_local:.2f}x of this machine's); 1 replica / no Ray: {rates[1] / local_rate:.2f}")


if __name__ == "__main__":
    main()
