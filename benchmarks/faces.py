"""Face swap speed on the CPU with the tiny ONNX twins: faces per second end to end through
``studio.faces.pipeline.swap_faces`` (reading the pictures, detecting faces in source and
target, the identity embedding, swapping and pasting back every face) against the sum of
the bare onnxruntime session calls the same request makes (2 detector runs, 1 recogniser
run, one swapper run per face), as an overhead ratio; then the median time per stage.

Run: python benchmarks/faces.py [--faces 3] [--runs 20] [--restore 0.5] [--cache-dir DIR]
The tiny twins are built into a temporary folder unless --cache-dir is given."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _target(faces: int):
    from studio.faces.samples import draw_faces

    width = 210 * faces + 10
    centres = tuple((110 + 210 * i, 160) for i in range(faces))
    return draw_faces((width, 320), centres, seed=2)


def _bare_calls(studio, faces: int, restore: bool):
    """The same session calls as one request, on inputs prepared beforehand."""
    import numpy as np
    import onnxruntime as ort

    from studio.faces import detect, pipeline

    def session(name):
        with studio.cache.use(studio.spec(name)) as model:
            options = ort.SessionOptions()
            options.log_severity_level = 3  # as the studio's sessions: no note about the unused projection
            return ort.InferenceSession(str(model.path), options, providers=["CPUExecutionProvider"])

    detector, recogniser, swapper = (session(n) for n in (pipeline.DETECTOR, pipeline.RECOGNISER, pipeline.SWAPPER))
    restorer = session(pipeline.RESTORER) if restore else None
    rng = np.random.default_rng(0)
    det_in = {detector.get_inputs()[0].name: rng.standard_normal((1, 3, detect.INPUT_SIZE, detect.INPUT_SIZE),
                                                                   dtype=np.float32)}
    rec_in = {recogniser.get_inputs()[0].name: rng.standard_normal((1, 3, 112, 112), dtype=np.float32)}
    swap_in = {"target": rng.random((1, 3, 128, 128), dtype=np.float32),
               "source": rng.standard_normal((1, 512), dtype=np.float32)}
    res_in = {restorer.get_inputs()[0].name: rng.standard_normal((1, 3, 512, 512), dtype=np.float32)} if restore else None

    def run():
        detector.run(None, det_in)  # source photo
        detector.run(None, det_in)  # target photo
        recogniser.run(None, rec_in)
        for _ in range(faces):
            swapper.run(None, swap_in)
            if restorer is not None:
                restorer.run(None, res_in)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faces", type=int, default=3, help="faces in the target photo, all replaced")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--restore", type=float, default=0.0, help="restoration strength (0 = off)")
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()

    from studio.context import StudioContext
    from studio.faces import pipeline
    from studio.faces.samples import draw_faces
    from studio.settings import load_settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(["--profile", "tiny", "--device", "cpu", "--cache-dir", args.cache_dir or tmp,
                                  "--outputs", str(Path(tmp) / "outputs")], env={})
        studio = StudioContext(settings)
        source = draw_faces((640, 640), ((320, 320),), seed=1)
        target = _target(args.faces)
        request = pipeline.SwapRequest([source], target, target_faces="all", restore_strength=args.restore)
        first = pipeline.swap_faces(studio, request)  # loads and warms every model
        assert len(first.replaced) == args.faces, f"found {len(first.replaced)} faces, expected {args.faces}"

        stages: dict[str, list[float]] = {}
        totals = []
        for _ in range(args.runs):
            started = time.perf_counter()
            result = pipeline.swap_faces(studio, request)
            totals.append(time.perf_counter() - started)
            for stage, seconds in result.timings.items():
                stages.setdefault(stage, []).append(seconds)

        bare = _bare_calls(studio, args.faces, args.restore > 0)
        bare()
        bare_times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            bare()
            bare_times.append(time.perf_counter() - started)

    studio_s, bare_s = statistics.median(totals), statistics.median(bare_times)
    print(f"tiny ONNX twins on the CPU, {args.faces} face(s) replaced per request, "
          f"target {target.size[0]}x{target.size[1]}, restoration {args.restore:g}, median of {args.runs} runs")
    print(f"  end to end (swap_faces)        {studio_s * 1000:8.1f} ms   {args.faces / studio_s:7.1f} faces/s")
    print(f"  bare onnxruntime calls (sum)   {bare_s * 1000:8.1f} ms   {args.faces / bare_s:7.1f} faces/s")
    print(f"  overhead ratio                 {studio_s / bare_s:8.2f}x")
    print("  per stage (median ms):  " + "  ".join(
        f"{stage} {statistics.median(values) * 1000:.1f}" for stage, values in stages.items()))


if __name__ == "__main__":
    main()
