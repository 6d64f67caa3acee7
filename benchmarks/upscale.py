"""Upscale speed and memory: megapixels/s of the studio's tiled super-resolution (the Edit tab's
path: shared cache, tiles with overlap and blending, progress checks) against one bare spandrel
call on the same model and input, as a ratio (studio / bare; target >= 0.9 where the bare call
fits), and the peak memory of a 4096×4096 result against the untiled estimate.

    python benchmarks/upscale.py                        # the tiny ESRGAN twin (×4), CPU, 256×256 input
    python benchmarks/upscale.py --side 128 --repeats 5 --tile 64
    python benchmarks/upscale.py --full-size            # RealESRGAN_x4plus's size (RRDBNet, 64 filters,
                                                        # 23 blocks) with random weights: same FLOPs, no download
    python benchmarks/upscale.py --skip-big             # without the 4096×4096 memory run

Memory is torch's peak CUDA allocation on a GPU; on a CPU, the peak resident memory above the
start (sampled every 5 ms). The untiled estimate is the bare call's peak per input pixel on a
small input, times the big input's pixels.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from studio.context import StudioContext  # noqa: E402
from studio.image.edit import upscale, upscaler  # noqa: E402
from studio.settings import load_settings  # noqa: E402

_spec = importlib.util.spec_from_file_location("image_benchmark", Path(__file__).with_name("image.py"))
_image_benchmark = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_image_benchmark)
PeakRSS = _image_benchmark.PeakRSS  # one peak-RAM sampler for every benchmark


def full_size_file(folder: Path) -> str:
    """RealESRGAN_x4plus's architecture with random weights, written as a user's file would be."""
    import torch
    from safetensors.torch import save_file
    from spandrel.architectures.ESRGAN import ESRGAN

    torch.manual_seed(0)
    model = ESRGAN(num_filters=64, num_blocks=23, scale=4)
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(folder / "x4plus-random.safetensors"))
    return "x4plus-random.safetensors"


def picture(side: int) -> object:
    from PIL import Image

    rng = np.random.default_rng(0)
    return Image.fromarray((rng.random((16, 16, 3)) * 255).astype(np.uint8)).resize((side, side), Image.BICUBIC)


def bare_call(model, image) -> float:
    """One spandrel model call on the whole input, as a script would write it; seconds."""
    import torch

    parameter = next(model.module.parameters())
    started = time.perf_counter()
    with torch.inference_mode():
        x = torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1)[None].to(parameter.device, parameter.dtype) / 255
        y = model.module(x).clamp(0, 1)
        (y[0].permute(1, 2, 0) * 255).round().byte().cpu().numpy()
    return time.perf_counter() - started


def studio_call(ctx, model_id, image, tile) -> float:
    started = time.perf_counter()
    upscale.super_resolve(ctx, image, 4, model_id, tile_size=tile)
    return time.perf_counter() - started


def cuda_peak(fn) -> tuple[float, int]:
    import torch

    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    seconds = fn()
    torch.cuda.synchronize()
    return seconds, torch.cuda.max_memory_allocated() - base


def rss_peak(fn) -> tuple[float, int]:
    with PeakRSS() as peak:
        seconds = fn()
    return seconds, peak.peak - peak.start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--side", type=int, default=256, help="input side for the speed runs (output ×4)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tile", type=int, default=0, help="also time the studio with this tile size (0: side/2)")
    parser.add_argument("--full-size", action="store_true", help="RealESRGAN_x4plus-sized random weights")
    parser.add_argument("--big-side", type=int, default=1024, help="input side of the memory run (1024 -> 4096×4096)")
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--child", choices=("bare", "studio"), help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--model-id", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args)
        return

    root = Path(tempfile.mkdtemp(prefix="studio-upscale-bench-"))
    settings = load_settings(["--profile", "tiny", "--cache-dir", str(root / "cache"), "--outputs", str(root / "out"),
                              "--upscalers-dir", str(root / "upscalers")], env={})
    ctx = StudioContext(settings)
    model_id = full_size_file(root / "upscalers") if args.full_size else ""
    image = picture(args.side)
    with ctx.cache.use(upscaler.spec(ctx, model_id)) as model:
        device = str(model.device)
        print(f"model: {model.name} ({model.architecture} ×{model.scale}, "
              f"{sum(p.numel() for p in model.module.parameters()) / 1e6:.2f} M parameters), {device}, {model.dtype}")
        bare_call(model, picture(32))  # warm-up
        studio_call(ctx, model_id, picture(32), 0)
        forced = args.tile or args.side // 2
        bare, whole, tiled = [], [], []
        for _ in range(args.repeats):  # interleaved, best of N
            bare.append(bare_call(model, image))
            whole.append(studio_call(ctx, model_id, image, 0))
            tiled.append(studio_call(ctx, model_id, image, forced))
        out_mp = (args.side * 4) ** 2 / 1e6
        plan = upscale.tiling.plan(args.side, args.side, forced, upscale.DEFAULT_OVERLAP)
        read = sum((t.cols.read_end - t.cols.read_start) * (t.rows.read_end - t.rows.read_start) for t in plan)
        auto = model.auto_tile()
        print(f"input {args.side}×{args.side} -> {args.side * 4}×{args.side * 4} ({out_mp:.2f} MP), best of {args.repeats}")
        print(f"  bare spandrel call        {out_mp / min(bare):8.3f} MP/s")
        print(f"  studio, automatic tile    {out_mp / min(whole):8.3f} MP/s   ratio {min(bare) / min(whole):.3f}"
              f"   (tile {auto} px: {'one tile' if auto >= args.side else 'tiled'})")
        print(f"  studio, tile {forced:<4d} px      {out_mp / min(tiled):8.3f} MP/s   ratio {min(bare) / min(tiled):.3f}"
              f"   ({len(plan)} tiles, overlap {upscale.DEFAULT_OVERLAP} px: {read / args.side**2:.2f}× the pixels computed)")

        if args.skip_big:
            return
    # Memory, each run in a fresh process: RAM freed by earlier runs would hide a peak here.
    probe_side = 256
    probe = child(root, model_id, "bare", probe_side)
    per_pixel = probe["bytes"] / probe_side**2
    big = child(root, model_id, "studio", args.big_side)
    big_out = args.big_side * 4
    untiled = per_pixel * args.big_side**2
    where = "GPU" if big["device"].startswith("cuda") else "RAM"
    print(f"{args.big_side}×{args.big_side} -> {big_out}×{big_out}: {big['seconds']:.1f} s "
          f"({big_out**2 / 1e6 / big['seconds']:.2f} MP/s), {big['tiles']} tile(s) of {big['tile']} px")
    print(f"  peak {where} memory, studio tiled: {big['bytes'] / 2**20:8.0f} MiB"
          + (f"  (the result and its float32 blend buffer in RAM: {big_out**2 * 15 / 2**20:.0f} MiB of it)"
             if where == "RAM" else ""))
    print(f"  untiled estimate:         {untiled / 2**20:8.0f} MiB  ({per_pixel / 1024:.1f} KiB per input pixel, "
          f"one bare call measured on {probe_side}×{probe_side})  ratio {big['bytes'] / untiled:.2f}")


def child(root: Path, model_id: str, kind: str, side: int) -> dict:
    """Run one measured call in a fresh interpreter; its JSON answer."""
    import json
    import subprocess

    done = subprocess.run([sys.executable, __file__, "--child", kind, "--big-side", str(side), "--root", str(root),
                           "--model-id", model_id], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_child(args) -> None:
    """One measured call after loading and a warm-up: peak memory above that point."""
    import gc
    import json

    root = Path(args.root)
    settings = load_settings(["--profile", "tiny", "--cache-dir", str(root / "cache"), "--outputs", str(root / "out"),
                              "--upscalers-dir", str(root / "upscalers")], env={})
    ctx = StudioContext(settings)
    image = picture(args.big_side)
    with ctx.cache.use(upscaler.spec(ctx, args.model_id)) as model:
        device = str(model.device)
        bare_call(model, picture(16))
        tile = model.auto_tile()
        gc.collect()
        measure = cuda_peak if device.startswith("cuda") else rss_peak
        if args.child == "bare":
            seconds, used = measure(lambda: bare_call(model, image))
        else:
            seconds, used = measure(lambda: studio_call(ctx, args.model_id, image, 0))
    tiles = upscale.tiling.tile_count(args.big_side, args.big_side, tile, upscale.DEFAULT_OVERLAP)
    print(json.dumps({"seconds": seconds, "bytes": used, "device": device, "tile": tile, "tiles": tiles}))


if __name__ == "__main__":
    main()
