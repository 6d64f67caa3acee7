"""Memory plans on a GPU: full-size SDXL and Z-Image (random weights, same FLOPs and bytes as the
real models) at 1024², bf16, run whole, with model offload and with block offload.

For each plan it prints seconds per step and the peak CUDA memory (torch.cuda.max_memory_allocated)
of the studio's generate path, beside a bare diffusers pipeline placed with the same diffusers
call (ratio bare / studio; target >= 0.97), and the planner's estimated peak beside the measured
one. Then how long the cache takes to park the checkpoint in RAM and bring it back, which is what
Text -> Image -> Describe taking turns on one GPU costs.

    python benchmarks/gpu.py                 # a CUDA GPU: about 6 minutes on an H100-class card
    python benchmarks/gpu.py --dry-run       # the same code on the tiny twins on a CPU (CI runs this)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.image import FAMILIES, FullSizeContext, in_worker_thread  # noqa: E402
from studio.context import StudioContext  # noqa: E402
from studio.image import checkpoints, memory, placement  # noqa: E402
from studio.image.generate import generate_images  # noqa: E402
from studio.image.request import ImageRequest  # noqa: E402
from studio.models import plans  # noqa: E402
from studio.settings import load_settings  # noqa: E402

PROMPT = "a red fox in a snowy forest, morning light"


class Clock:
    """Wall time with the GPU's work included, and the peak CUDA memory of the block."""

    def __init__(self, cuda: bool):
        self.cuda = cuda

    def __enter__(self):
        import torch

        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        import torch

        if self.cuda:
            torch.cuda.synchronize()
            self.peak = torch.cuda.max_memory_allocated()
        else:
            self.peak = None
        self.seconds = time.perf_counter() - self.started


def budget_for(ctx, checkpoint: str, request: ImageRequest, plan: str) -> tuple[int | None, int]:
    """The budget that makes the planner choose ``plan`` (its own estimated peak), and that peak."""
    spec = checkpoints.spec(ctx, checkpoint)
    with ctx.cache.use(spec, where="any") as model:
        modules = placement.task_modules(model.family, model.pipeline, "txt2img")
        guidance = model.family.guidance_active(request.cfg)
        footprint = memory.footprint(model.family, modules, request.width, request.height, guidance)
    estimate = plans.peak(footprint, plan)
    return (None if plan == plans.WHOLE else estimate), estimate


def bare_run(ctx, checkpoint: str, request: ImageRequest, plan: str, device: str):
    """What a script would write: the family's pipeline over the same modules, placed with
    diffusers' own call for the plan, run with the same settings."""
    import torch

    spec = checkpoints.spec(ctx, checkpoint)
    where = "device" if plan == plans.WHOLE else "host"
    with ctx.cache.use(spec, where) as model:
        family, base = model.family, model.pipeline
        pipe = family.task_pipeline(base, "txt2img", family.make_scheduler(base, request.scheduler or family.defaults.scheduler))
        if plan == plans.MODEL_OFFLOAD:
            pipe.enable_model_cpu_offload(device=device)
        elif plan == plans.BLOCK_OFFLOAD:
            memory.group_offload(pipe, device)
        try:
            return pipe(prompt=PROMPT, width=request.width, height=request.height, num_inference_steps=request.steps,
                        guidance_scale=request.cfg, generator=torch.Generator("cpu").manual_seed(1),
                        **family.call_kwargs(request.cfg)).images[0]
        finally:
            if plan != plans.WHOLE:
                memory.undo_offload(pipe, plan)


def bench_plans(ctx, name: str, args, cuda: bool, device: str) -> None:
    checkpoint = FAMILIES[name]
    cfg = 0.0 if name == "zimage" else 7.0
    scheduler = "Flow Euler" if name == "zimage" else "Euler"
    request = ImageRequest(prompt=PROMPT, checkpoint=checkpoint, width=args.size, height=args.size, steps=args.steps,
                           cfg=cfg, scheduler=scheduler, seed=1, performance="Speed")
    for plan in (plans.WHOLE, plans.MODEL_OFFLOAD, plans.BLOCK_OFFLOAD):
        budget, estimate = budget_for(ctx, checkpoint, request, plan)
        ctx.cache._budget_bytes = budget  # the planner picks ``plan`` for this request
        studio_runs, bare_runs, peaks = [], [], {"studio": 0, "bare": 0}
        for repeat in range(args.repeats + 1):  # the first of each is a warm-up
            for label, fn, runs in (("studio", lambda: generate_images(ctx, request, None), studio_runs),
                                    ("bare", lambda: bare_run(ctx, checkpoint, request, plan, device), bare_runs)):
                with Clock(cuda) as clock:
                    in_worker_thread(fn)
                if repeat:
                    runs.append(clock.seconds / args.steps)
                    peaks[label] = max(peaks[label], clock.peak or 0)
        studio_s, bare_s = statistics.median(studio_runs), statistics.median(bare_runs)
        measured = f"{peaks['studio'] / plans.GB:.2f} GB (bare {peaks['bare'] / plans.GB:.2f})" if cuda else "n/a (no CUDA)"
        print(f"{name:6s} {args.size}² {plan:13s} · studio {studio_s:.3f} s/step · bare {bare_s:.3f} s/step · "
              f"ratio {bare_s / studio_s:.3f} · peak estimated {plans.human(estimate)} · measured {measured}")
    ctx.cache._budget_bytes = None


def bench_turns(ctx, name: str, cuda: bool) -> None:
    """Park the checkpoint in RAM (what happens when Text or Describe needs its room) and restore it."""
    spec = checkpoints.spec(ctx, FAMILIES[name])
    with ctx.cache.use(spec):
        pass
    size = ctx.cache.stats()["device_bytes"]
    with Clock(cuda) as parked:
        with ctx.cache.use(spec, where="host"):
            pass
    with Clock(cuda) as restored:
        with ctx.cache.use(spec):
            pass
    print(f"{name:6s} cache turn · {plans.human(size)} parked in RAM in {parked.seconds:.2f} s · "
          f"back on the device in {restored.seconds:.2f} s")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true", help="tiny twins on the CPU: the same code, in seconds")
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    parser.add_argument("--size", type=int, default=None, help="default 1024 (256 with --dry-run)")
    parser.add_argument("--steps", type=int, default=None, help="default 8 (2 with --dry-run)")
    parser.add_argument("--repeats", type=int, default=None, help="default 3 (1 with --dry-run)")
    parser.add_argument("--cache-dir", default=".cache/studio")
    args = parser.parse_args(argv)
    import torch

    cuda = torch.cuda.is_available() and not args.dry_run
    if not cuda and not args.dry_run:
        print("benchmarks/gpu.py needs a CUDA GPU (or --dry-run for the tiny twins on a CPU).")
        return 1
    args.size = args.size or (1024 if cuda else 256)
    args.steps = args.steps or (8 if cuda else 2)
    args.repeats = args.repeats or (3 if cuda else 1)
    flags = ["--profile", "tiny", "--cache-dir", args.cache_dir]
    with tempfile.TemporaryDirectory() as outputs:
        settings = load_settings(flags + ["--outputs", outputs] + (["--device", "cpu"] if not cuda else []), env={})
        ctx = FullSizeContext(settings) if cuda else StudioContext(settings)
        device = ctx.cache.device
        print(f"device {ctx.describe_device()} · {'full size, bf16' if cuda else 'tiny twins (dry run)'}")
        for name in args.families:
            bench_plans(ctx, name, args, cuda, device)
            bench_turns(ctx, name, cuda)
            ctx.cache.free_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
