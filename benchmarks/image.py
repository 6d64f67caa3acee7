"""Image tab speed: seconds per image through the studio's generate path (checked request,
shared cache, from_pipe, per-step callback with previews, PNG + metadata saved) against a
bare diffusers pipeline call with identical settings on the same model, as a ratio
(bare / studio; target >= 0.97), plus the peak extra RAM of each.

The studio runs twice: with Fooocus's guidance hooks off (sharpness 0, adaptive CFG = CFG,
ADM 1.0 / 1.0: the same pixels as the bare call, so the ratio is the studio's own overhead),
and on at Fooocus's defaults (sharpness 2, adaptive CFG 7 at CFG 7, ADM 1.5 / 0.8 until 0.3),
which is what the Image tab draws by default on SDXL (its ratio adds the hooks' own cost).
Families without the hooks (Z-Image) give the "off" figure only.

    python benchmarks/image.py                       # both families' tiny twins, CPU, 512x512
    python benchmarks/image.py --size 256 --steps 4 --repeats 5
    python benchmarks/image.py --full-size           # GPU: real-size SDXL UNet / Z-Image transformer,
                                                     # random weights, 1024x1024, bf16 (same FLOPs)
    python benchmarks/image.py --check-full-size     # parameter counts of the full-size builds (meta device)
    python benchmarks/image.py --image-prompts       # one ControlNet slot, one IP-Adapter slot vs the bare
                                                     # diffusers calls (SDXL twin), and each preprocessor at 1024x1024
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil  # noqa: E402

from studio.context import StudioContext  # noqa: E402
from studio.image import checkpoints, full_size  # noqa: E402
from studio.image.generate import generate_images  # noqa: E402
from studio.image.request import ImageRequest  # noqa: E402
from studio.progress import Task  # noqa: E402
from studio.settings import load_settings  # noqa: E402

FAMILIES = {"sdxl": "stabilityai/stable-diffusion-xl-base-1.0", "zimage": "Tongyi-MAI/Z-Image-Turbo"}
PROMPT = "a red fox in a snowy forest, morning light"


class PeakRSS:
    """Highest resident memory above the start, sampled every few milliseconds."""

    def __enter__(self):
        self.process = psutil.Process()
        self.start = self.peak = self.process.memory_info().rss
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.005)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()

    @property
    def extra_mb(self) -> float:
        return (self.peak - self.start) / 1024**2


def bare_call(pipe, family, steps: int, cfg: float, size: int, seed: int):
    """What a script would write: the pipeline's own call, same settings and scheduler."""
    import torch

    kwargs = dict(prompt=PROMPT, width=size, height=size, num_inference_steps=steps,
                  generator=torch.Generator("cpu").manual_seed(seed), **family.call_kwargs(cfg))
    return pipe(**kwargs).images[0]


def hooks_off(cfg: float) -> dict:
    """Every guidance hook at its identity value: the plain pipeline's pixels exactly."""
    return dict(sharpness=0.0, adaptive_cfg=max(1.0, cfg), adm_scaler_positive=1.0, adm_scaler_negative=1.0)


HOOKS_ON = dict(sharpness=2.0, adaptive_cfg=7.0, adm_scaler_positive=1.5, adm_scaler_negative=0.8, adm_scaler_end=0.3)


def studio_call(ctx, checkpoint: str, steps: int, cfg: float, size: int, seed: int, folder: Path,
                hooks: dict | None = None):
    request = ImageRequest(prompt=PROMPT, checkpoint=checkpoint, width=size, height=size, steps=steps, cfg=cfg,
                           scheduler=None, seed=seed, performance="Speed", **(hooks_off(cfg) if hooks is None else hooks))
    # Through a Task, as the tab runs it: progress events and previews included.
    return Task(lambda task: generate_images(ctx, request, folder, task)).run()[0].image


def in_worker_thread(fn):
    """Run ``fn`` in a fresh thread, as Gradio runs events (and as the studio's Task runs work).
    Both paths run this way: torch's CPU thread pool behaves differently in the main thread
    (on a loaded 2-core machine a main-thread call measured 10x slower), which is not overhead."""
    out = {}
    thread = threading.Thread(target=lambda: out.setdefault("value", fn()))
    thread.start()
    thread.join()
    return out.get("value")


def timed_pair(first, second, repeats: int) -> tuple[tuple[float, float], tuple[float, float]]:
    return timed_group((first, second), repeats)


def timed_group(fns, repeats: int) -> tuple[tuple[float, float], ...]:
    """Median seconds and peak extra RAM of each, the calls interleaved so that drift in the
    machine's speed (other processes, clocks) falls on all alike."""
    results: list[tuple[list[float], list[float]]] = [([], []) for _ in fns]
    for _ in range(repeats):
        for fn, (times, peaks) in zip(fns, results):
            with PeakRSS() as memory:
                started = time.perf_counter()
                in_worker_thread(fn)
                times.append(time.perf_counter() - started)
            peaks.append(memory.extra_mb)
    return tuple((statistics.median(times), max(peaks)) for times, peaks in results)


def bench_family(ctx, name: str, args, folder: Path) -> None:
    checkpoint = FAMILIES[name]
    spec = checkpoints.spec(ctx, checkpoint)
    with ctx.cache.use(spec) as model:
        family, base = model.family, model.pipeline
        steps = args.steps or family.defaults.steps
        cfg = family.defaults.cfg if name == "zimage" else 7.0
        scheduler = family.defaults.scheduler if name == "zimage" else "DPM++ 2M Karras"
        bare_pipe = family.task_pipeline(base, "txt2img", family.make_scheduler(base, scheduler))
        hooked = family.uses("sharpness")
        # Warm every path once (first-call allocations, lazy imports).
        bare_call(bare_pipe, family, 1, cfg, args.size, 0)
        studio_call(ctx, checkpoint, 1, cfg, args.size, 0, folder)
        if hooked:
            studio_call(ctx, checkpoint, 1, cfg, args.size, 0, folder, HOOKS_ON)
        # The studio uses the preset's sampler for SDXL: the same one as the bare call here.
        calls = [lambda: bare_call(bare_pipe, family, steps, cfg, args.size, 1),
                 lambda: studio_call(ctx, checkpoint, steps, cfg, args.size, 1, folder)]
        if hooked:
            calls.append(lambda: studio_call(ctx, checkpoint, steps, cfg, args.size, 1, folder, HOOKS_ON))
        timings = timed_group(calls, args.repeats)
    (bare_s, bare_mb), (studio_s, studio_mb) = timings[:2]
    print(f"{name:7s} {args.size}x{args.size} {steps} steps · bare {bare_s:.3f} s/image · studio, hooks off "
          f"{studio_s:.3f} s/image · ratio {bare_s / studio_s:.3f} · peak extra RAM bare {bare_mb:.0f} MB, "
          f"studio {studio_mb:.0f} MB")
    if hooked:
        (on_s, on_mb) = timings[2]
        print(f"{name:7s} {args.size}x{args.size} {steps} steps · studio, hooks on (sharpness 2, adaptive CFG 7 at CFG "
              f"7, ADM 1.5/0.8/0.3) {on_s:.3f} s/image · ratio {bare_s / on_s:.3f} · peak extra RAM {on_mb:.0f} MB")


# --- image prompts ----------------------------------------------------------------------------


def bench_preprocessors(repeats: int) -> None:
    import numpy as np

    from studio.faces.samples import draw_faces
    from studio.image.image_prompts import preprocess

    picture = np.asarray(draw_faces((1024, 1024), ((300, 400), (700, 500)), radius=150, seed=1))
    for name, fn in (("PyraCanny", preprocess.pyramid_canny), ("CPDS", preprocess.cpds),
                     ("ImagePrompt view", preprocess.encoder_view)):
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            fn(picture)
            times.append(time.perf_counter() - started)
        print(f"preprocess {name:16s} 1024x1024 · median {statistics.median(times) * 1000:.0f} ms (min {min(times) * 1000:.0f})")


def bench_image_prompts(ctx, args, folder: Path) -> None:
    """Studio (slot checked, map made, models pinned, adapter gate, per-step scale callback, PNG
    saved) vs a script's bare call on the same modules: the map made with the same function and
    passed to the ControlNet pipeline, or the IP-Adapter already loaded and its scale set."""
    import torch

    from studio.faces.samples import draw_faces
    from studio.image.image_prompts import apply, preprocess
    from studio.image.image_prompts.slots import check_slots

    checkpoint, size, steps = FAMILIES["sdxl"], args.size, args.steps or 8
    picture = draw_faces((size, size), ((size // 2, size // 2),), radius=size // 5, seed=2)
    # Stop-at 1 for the adapter: diffusers' bare call has no per-adapter stop, so the settings match.
    cases = {"PyraCanny": {"image": picture, "type": "PyraCanny", "weight": 1.0, "stop_at": 0.5},
             "ImagePrompt": {"image": picture, "type": "ImagePrompt", "weight": 0.6, "stop_at": 1.0}}
    spec = checkpoints.spec(ctx, checkpoint)
    for kind, slot in cases.items():
        def studio():
            request = ImageRequest(prompt=PROMPT, checkpoint=checkpoint, width=size, height=size, steps=steps, cfg=7.0,
                                   seed=1, performance="Speed", image_prompts=(slot,), **hooks_off(7.0))
            return Task(lambda task: generate_images(ctx, request, folder, task)).run()[0].image

        studio()  # warm: loads the ControlNet / IP-Adapter and image encoder, switches the UNet's adapters
        with ctx.cache.use(spec) as model, apply.prepared(ctx, model.family, check_slots([slot]), "txt2img",
                                                           size, size) as prompts:
            family, base = model.family, model.pipeline
            scheduler = family.make_scheduler(base, "DPM++ 2M Karras")
            pipe = family.task_pipeline(base, prompts.task("txt2img"), scheduler, prompts.components())

            def bare():
                kwargs = dict(prompt=PROMPT, width=size, height=size, num_inference_steps=steps, guidance_scale=7.0,
                              generator=torch.Generator("cpu").manual_seed(1))
                if kind == "PyraCanny":
                    edges = preprocess.pyramid_canny(preprocess.fit(np.asarray(picture), size, size))
                    kwargs.update(image=Image.fromarray(edges), controlnet_conditioning_scale=1.0,
                                  control_guidance_end=0.5)
                else:
                    pipe.set_ip_adapter_scale(0.6)  # the adapter is in the UNet since the warm-up call
                    kwargs["ip_adapter_image"] = [picture]
                return pipe(**kwargs).images[0]

            import numpy as np
            from PIL import Image

            bare()
            (bare_s, _), (studio_s, _) = timed_pair(bare, studio, args.repeats)
        print(f"image prompt {kind:11s} sdxl {size}x{size} {steps} steps · bare {bare_s:.3f} s/image · studio "
              f"{studio_s:.3f} s/image · ratio {bare_s / studio_s:.3f}")


# --- full size (random weights, no download) --------------------------------------------------
# The published architecture sizes, built with random weights: the same FLOPs and memory as
# the real models, so speed can be measured on a lent GPU without the Hub.


def assemble_sdxl(modules: dict, tokenizer_dir: Path):
    from diffusers import EulerDiscreteScheduler, StableDiffusionXLPipeline
    from transformers import CLIPTokenizer

    tokenizer = CLIPTokenizer.from_pretrained(tokenizer_dir)
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                       steps_offset=1, timestep_spacing="leading")
    return StableDiffusionXLPipeline(tokenizer=tokenizer, tokenizer_2=tokenizer, scheduler=scheduler, **modules)


def assemble_zimage(modules: dict, tokenizer_dir: Path):
    from diffusers import FlowMatchEulerDiscreteScheduler, ZImagePipeline
    from transformers import AutoTokenizer

    scheduler = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=3.0)
    return ZImagePipeline(scheduler=scheduler, tokenizer=AutoTokenizer.from_pretrained(tokenizer_dir), **modules)


FULL_SIZE = {"sdxl": (full_size.sdxl, assemble_sdxl), "zimage": (full_size.zimage, assemble_zimage)}


def check_full_size() -> None:
    import torch

    for name, (build, _) in FULL_SIZE.items():
        with torch.device("meta"):  # shapes only: nothing allocated
            modules = build()
        for part, module in modules.items():
            print(f"{name} {part}: {sum(p.numel() for p in module.parameters()) / 1e9:.3f} B parameters")


class FullSizeContext(StudioContext):
    """Loads the full-size random-weight build instead of the tiny twin; the rest is the studio's."""

    def _load(self, spec):
        from studio.image.families import FAMILIES as KNOWN
        from studio.image.loading import ImageModel

        import torch

        from studio.models import tiny

        name = "sdxl" if spec.source.endswith("sdxl") else "zimage"
        build, assemble = FULL_SIZE[name]
        tokenizer_dir = tiny.ensure_built(name, self.settings.tiny_dir) / "tokenizer"
        torch.set_default_dtype(torch.bfloat16)
        try:
            with torch.device("cuda"):  # built straight on the GPU: no 20 GB of fp32 in RAM first
                modules = build()
        finally:
            torch.set_default_dtype(torch.float32)
        pipe = assemble(modules, tokenizer_dir)
        pipe.set_progress_bar_config(disable=True)
        return ImageModel(pipe, KNOWN[name], f"full-size {name}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--cache-dir", default=".cache/studio")
    parser.add_argument("--full-size", action="store_true")
    parser.add_argument("--check-full-size", action="store_true")
    parser.add_argument("--image-prompts", action="store_true",
                        help="one ControlNet slot and one IP-Adapter slot vs bare diffusers, and the preprocessors")
    args = parser.parse_args(argv)
    settings = load_settings(["--profile", "tiny", "--cache-dir", args.cache_dir], env={})
    if args.check_full_size:
        check_full_size()
        return 0
    if args.full_size:
        import torch

        if not torch.cuda.is_available():
            print("--full-size needs a CUDA GPU: one full-size step takes minutes on a CPU.")
            return 1
        ctx = FullSizeContext(settings)
        args.size = 1024 if args.size == 512 else args.size
    else:
        ctx = StudioContext(settings)
    with tempfile.TemporaryDirectory() as folder:
        if args.image_prompts:
            bench_image_prompts(ctx, args, Path(folder))
            bench_preprocessors(args.repeats)
            return 0
        for name in args.families:
            bench_family(ctx, name, args, Path(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
