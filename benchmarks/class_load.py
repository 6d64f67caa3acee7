"""A class at once: N simulated students call every tool through gradio_client (each its own
session, files uploaded with handle_file), for a while, optionally with cores kept busy by a
competing process, as on a teacher's machine. Prints calls, errors (by endpoint and message),
p50/p95 latency per endpoint and in all, and the server's worst event-loop lag.

    python benchmarks/class_load.py --students 30 --seconds 300 --busy-cores 1   # the issue's target
    python benchmarks/class_load.py --students 8 --seconds 60                    # a quick look
    python benchmarks/class_load.py --url http://127.0.0.1:7860/ ...             # a running studio

A greedy student (issue 26): eight students each send a small image request with a 1 s pause,
alone, then beside one student keeping six requests in flight from one session; the class is on
a shared server (--listen, a class password), where a student's limits hold:

    python benchmarks/class_load.py --students 8 --seconds 60 --mix image --pause 1 --class --greedy 6
    ... --app-root /tmp/before    # the same against another checkout of the studio (e.g. the code before)

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


CLASS_PASSWORD = "benchmark-class"
IMAGE_ONLY = ("/generate_image", dict(prompt="a red fox in snow", width=256, height=256, steps=4, image_number=1))


def client_for(url: str, name: str, on_class: bool):
    from gradio_client import Client

    return Client(url, verbose=False, auth=(name, CLASS_PASSWORD) if on_class else None)


def student(index: int, url: str, face_png: str, deadline: float, results: list, errors: list,
            mix_name: str = "all", pause: float = 0.0, on_class: bool = False) -> None:
    client = client_for(url, f"student{index}", on_class)
    mix = calls(face_png) if mix_name == "all" else [IMAGE_ONLY]
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
        if pause:
            time.sleep(pause)


def greedy_student(url: str, in_flight: int, deadline: float, answers: list, refused: list, on_class: bool) -> None:
    """One session keeping ``in_flight`` image requests going at once; a refused one is sent again
    after a second (as an impatient student would)."""
    client = client_for(url, "greedy", on_class)
    endpoint, kwargs = IMAGE_ONLY
    jobs: list = []
    while time.monotonic() < deadline:
        while len(jobs) < in_flight:
            jobs.append(client.submit(api_name=endpoint, **kwargs))
        for job in list(jobs):
            if job.done():
                jobs.remove(job)
                try:
                    job.result()
                    answers.append(time.monotonic())
                except Exception:  # noqa: BLE001 - refused at the door: counted, and tried again
                    refused.append(time.monotonic())
                    time.sleep(1.0)
        time.sleep(0.05)
    for job in jobs:
        job.cancel()


def start_app(workdir: Path, app_root: Path = ROOT, extra: tuple[str, ...] = ()) -> tuple[str, subprocess.Popen]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {"STUDIO_LOG_LOOP_STALLS": "0.3", **os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    log = open(workdir / "app.log", "w")
    process = subprocess.Popen(
        [sys.executable, str(app_root / "app.py"), "--profile", "tiny", "--port", str(port),
         "--outputs", str(workdir / "outputs"), "--cache-dir", str(ROOT / ".cache" / "studio"), *extra],
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
    parser.add_argument("--mix", choices=("all", "image"), default="all", help="every tool in turn, or images only")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds each student waits between requests")
    parser.add_argument("--greedy", type=int, default=0,
                        help="also run the class beside one student keeping this many requests in flight")
    parser.add_argument("--class", dest="on_class", action="store_true",
                        help="a shared server: --listen and a class password, so a student's limits hold")
    parser.add_argument("--app-root", type=Path, default=ROOT, help="the checkout whose app.py is started")
    args = parser.parse_args(argv)
    extra = ("--host", "0.0.0.0", "--class-password", CLASS_PASSWORD) if args.on_class else ()

    from gradio_client import Client

    from studio.faces.samples import draw_faces

    workdir = Path(tempfile.mkdtemp(prefix="class-load-"))
    print(f"app log (with the event loop's stalls): {workdir / 'app.log'}")
    face_png = str(workdir / "face.png")
    draw_faces((256, 256), ((128, 128),), radius=55, seed=3).save(face_png)
    process = None
    url = args.url
    if not url:
        url, process = start_app(workdir, args.app_root.resolve(), extra)
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.busy_cores)]
    try:
        probe = client_for(url, "probe", args.on_class)
        for endpoint, kwargs in calls(face_png):  # warm: models loaded, imports done, not counted
            probe.predict(api_name=endpoint, **kwargs)
        for spinner in spinners:
            spinner.start()
        rounds = [0] + ([args.greedy] if args.greedy else [])
        for greedy in rounds:
            results: list[tuple[str, float]] = []
            errors: list[tuple[str, str]] = []
            greedy_answers: list[float] = []
            greedy_refused: list[float] = []
            deadline = time.monotonic() + args.seconds
            threads = [threading.Thread(target=student, daemon=True,
                                        args=(i, url, face_png, deadline, results, errors, args.mix, args.pause,
                                              args.on_class))
                       for i in range(args.students)]
            if greedy:
                threads.append(threading.Thread(target=greedy_student, daemon=True,
                                                args=(url, greedy, deadline, greedy_answers, greedy_refused,
                                                      args.on_class)))
            started = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            took = time.monotonic() - started
            health = probe.predict(seconds=took, api_name="/server_health")  # the load's time only
            report(args, results, errors, took, health, greedy, greedy_answers, greedy_refused)
    finally:
        for spinner in spinners:
            spinner.terminate()
        if process is not None:
            process.terminate()
            process.wait(timeout=30)

    return 0


def report(args: argparse.Namespace, results: list, errors: list, took: float, health: dict, greedy: int,
           greedy_answers: list, greedy_refused: list) -> None:
    beside = f", beside a student keeping {greedy} in flight" if greedy else ", alone"
    print(f"{args.students} students × {args.seconds:.0f} s{beside}, {args.busy_cores} busy core(s), "
          f"{os.cpu_count()} cores: {len(results)} answers, {len(errors)} errors in {took:.0f} s")
    if greedy:
        print(f"  the greedy student: {len(greedy_answers)} answers, {len(greedy_refused)} refused at the door")
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


if __name__ == "__main__":
    raise SystemExit(main())
