"""A class at once: N simulated students call every tool through gradio_client (each its own
session, files uploaded with handle_file), for a while, optionally with cores kept busy by a
competing process, as on a teacher's machine. Prints calls, errors (by endpoint and message),
p50/p95 latency per endpoint and in all, and the server's worst event-loop lag.

    python benchmarks/class_load.py --students 30 --seconds 300 --busy-cores 1   # the issue's target
    python benchmarks/class_load.py --students 8 --seconds 60                    # a quick look
    python benchmarks/class_load.py --url http://127.0.0.1:7860/ ...             # a running studio

Without --url it starts `python app.py --profile tiny` on a free port (tiny twins, offline).
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _spin() -> None:
    while True:
        pass


def calls(face_png: str) -> list[tuple[str, dict]]:
    """The mix each student goes through in turn (each starts at its own place in it)."""
    from gradio_client import handle_file

    return [
        ("/generate_image", dict(prompt="a red fox in snow", width=256, height=256, steps=4, image_number=1)),
        ("/generate", dict(prompt="Tell me about foxes.", max_new_tokens=32, mode="chat")),
        ("/tokenize", dict(text="炎龍老師很幽默，unbelievable! " * 20)),
        ("/upscale", dict(image=handle_file(face_png), mode="Upscale (Fast 2×)")),
        ("/detect_faces", dict(image=handle_file(face_png))),
        ("/expand_prompt", dict(text="一隻在雪地裡的紅狐狸", length="short")),
    ]


def student(index: int, url: str, face_png: str, deadline: float, results: list, errors: list) -> None:
    from gradio_client import Client

    client = Client(url, verbose=False)
    mix = calls(face_png)
    turn = index
    while time.monotonic() < deadline:
        endpoint, kwargs = mix[turn % len(mix)]
        turn += 1
        started = time.monotonic()
        try:
            client.predict(api_name=endpoint, **kwargs)
            results.append((endpoint, time.monotonic() - started))
        except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
            errors.append((endpoint, f"{type(exc).__name__}: {str(exc)[:120]}"))


def start_app(workdir: Path) -> tuple[str, subprocess.Popen]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {"STUDIO_LOG_LOOP_STALLS": "0.3", **os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    log = open(workdir / "app.log", "w")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--profile", "tiny", "--port", str(port),
         "--outputs", str(workdir / "outputs"), "--cache-dir", str(ROOT / ".cache" / "studio")],
        cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    import httpx

    for _ in range(600):
        if process.poll() is not None:
            raise SystemExit(f"the app exited: see {workdir / 'app.log'}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return url, process
        except httpx.HTTPError:
            time.sleep(0.5)
    raise SystemExit("the app did not start in 5 minutes")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--busy-cores", type=int, default=0, help="competing processes, each spinning on a core")
    parser.add_argument("--url", default="", help="a running studio (default: start the tiny profile)")
    args = parser.parse_args(argv)

    from gradio_client import Client

    from studio.faces.samples import draw_faces

    workdir = Path(tempfile.mkdtemp(prefix="class-load-"))
    print(f"app log (with the event loop's stalls): {workdir / 'app.log'}")
    face_png = str(workdir / "face.png")
    draw_faces((256, 256), ((128, 128),), radius=55, seed=3).save(face_png)
    process = None
    url = args.url
    if not url:
        url, process = start_app(workdir)
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.busy_cores)]
    try:
        probe = Client(url, verbose=False)
        for endpoint, kwargs in calls(face_png):  # warm: models loaded, imports done, not counted
            probe.predict(api_name=endpoint, **kwargs)
        for spinner in spinners:
            spinner.start()
        results: list[tuple[str, float]] = []
        errors: list[tuple[str, str]] = []
        deadline = time.monotonic() + args.seconds
        threads = [threading.Thread(target=student, args=(i, url, face_png, deadline, results, errors), daemon=True)
                   for i in range(args.students)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        took = time.monotonic() - started
        health = probe.predict(seconds=took, api_name="/server_health")  # the load's time only
    finally:
        for spinner in spinners:
            spinner.terminate()
        if process is not None:
            process.terminate()
            process.wait(timeout=30)

    print(f"{args.students} students × {args.seconds:.0f} s, {args.busy_cores} busy core(s), "
          f"{os.cpu_count()} cores: {len(results)} answers, {len(errors)} errors in {took:.0f} s")
    by_endpoint: dict[str, list[float]] = collections.defaultdict(list)
    for endpoint, seconds in results:
        by_endpoint[endpoint].append(seconds)
    for endpoint, values in sorted(by_endpoint.items()):
        print(f"  {endpoint:16s} {len(values):4d} calls  p50 {statistics.median(values):5.2f} s  "
              f"p95 {percentile(values, 0.95):5.2f} s")
    every = [seconds for _, seconds in results]
    if every:
        print(f"  {'all':16s} {len(every):4d} calls  p50 {statistics.median(every):5.2f} s  "
              f"p95 {percentile(every, 0.95):5.2f} s")
    for (endpoint, message), count in collections.Counter(errors).most_common(10):
        print(f"  error ×{count} {endpoint}: {message}")
    print(f"event loop lag under the load: worst {health['loop_lag_worst_s']:.3f} s, mean "
          f"{health['loop_lag_mean_s']:.4f} s (over {health['window_s']:.0f} s; worst since the app started, "
          f"model loads included: {health['loop_lag_worst_since_start_s']:.3f} s)")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
