"""Which memory plan a request gets on a given budget, offline and without a GPU.

    python -m studio.memory_plan --checkpoint stabilityai/stable-diffusion-xl-base-1.0 --budget-gb 8 \\
        --width 1024 --height 1024 --image-prompts PyraCanny,CPDS,ImagePrompt

The checkpoint's full-size architecture (and each image prompt's ControlNet and image encoder)
is built on the meta device: exact parameter counts, nothing downloaded or allocated. The
IP-Adapters' layers are counted from their published file sizes (the catalog's figures).
Prints one JSON line: the plan, its estimated peak, whether it fits, and every plan's peak.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from studio.image.families.base import ImageFamily

DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}


def family_of(checkpoint: str) -> ImageFamily:
    """A catalog image id (or a family name: sdxl, sd15, zimage, flux...) -> its family."""
    from studio.image import families

    return families.of_catalog_id(checkpoint) or families.family(checkpoint)


def build(family: ImageFamily, image_prompts: list[str], dtype: str) -> tuple[dict[str, Any], dict[str, int]]:
    """The request's modules on the meta device in ``dtype``, and bytes known only from files."""
    import torch

    from studio.image import full_size
    from studio.models import catalog

    extra: dict[str, int] = {}
    torch.set_default_dtype(getattr(torch, DTYPES[dtype]))
    try:
        modules = full_size.on_meta(family.full_size_modules)
        controls = []
        for kind in image_prompts:
            entry_name = family.image_prompt_models.get(kind)
            if entry_name is None:
                raise SystemExit(f"{family.label} takes no {kind} image prompt: {family.image_prompt_note}")
            entry = catalog.entry(entry_name)
            if entry.kind == "controlnet":
                controls.append(full_size.on_meta(lambda: full_size.controlnet_for(modules["unet"])))
            elif entry.kind == "zimage_controlnet":
                controls.append(full_size.on_meta(full_size.zimage_union_controlnet))
            else:  # an IP-Adapter: its layers join the UNet; it reads the ViT-H image encoder
                extra["unet"] = extra.get("unet", 0) + int(entry.vram_gb[entry.default] * 1024**3)
                modules.setdefault("image_encoder", full_size.on_meta(full_size.clip_vision_h))
        if controls:
            modules["controlnet"] = controls[0] if len(controls) == 1 else torch.nn.ModuleList(controls)
    finally:
        torch.set_default_dtype(torch.float32)
    return modules, extra


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m studio.memory_plan", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="a catalog image model id, or a family name (sdxl, sd15, zimage, flux...)")
    parser.add_argument("--budget-gb", type=float, required=True, help="the model cache's device budget")
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--height", type=int, default=1024)
    parser.add_argument("--image-prompts", default="", help="comma separated: PyraCanny,CPDS,ImagePrompt,FaceSwap")
    parser.add_argument("--cfg", type=float, default=None, help="default: the family's (SDXL Speed: 7)")
    parser.add_argument("--dtype", choices=list(DTYPES), default="bf16")
    parser.add_argument("--fp8-storage", action="store_true", help="allow the denoiser in fp8 storage")
    parser.add_argument("--ram-gb", type=float, default=None, help="RAM free for parked weights (default: unchecked)")
    args = parser.parse_args(argv)

    import studio  # noqa: F401  (sets up torchvision's operators next to a CPU torch)
    from studio.image import memory
    from studio.models import plans

    try:
        family = family_of(args.checkpoint)
    except Exception as exc:  # BadInput: an unknown id, said in one line
        parser.error(str(exc))
    kinds = [k.strip() for k in args.image_prompts.split(",") if k.strip()]
    modules, extra = build(family, kinds, args.dtype)
    cfg = args.cfg if args.cfg is not None else (7.0 if family.uses("performance") else family.defaults.cfg)
    footprint = memory.footprint(family, modules, args.width, args.height, family.guidance_active(cfg), extra,
                                 fp8_allowed=args.fp8_storage)
    budget = int(args.budget_gb * plans.GB)
    ram = None if args.ram_gb is None else int(args.ram_gb * plans.GB)
    plan = plans.choose(footprint, budget, ram, allow_fp8=args.fp8_storage)
    line = {
        "checkpoint": args.checkpoint, "family": family.name, "width": args.width, "height": args.height,
        "image_prompts": kinds, "dtype": args.dtype, **plan.as_dict(),
        "weights_gb": round(footprint.total_bytes / plans.GB, 2),
        "parts_gb": {name: round(size / plans.GB, 3) for name, size in footprint.parts.items()},
        "peaks_gb": {name: round(plans.peak(footprint, name) / plans.GB, 2) for name in plans.SLOWDOWN},
    }
    print(json.dumps(line))
    return 0 if plan.fits else 1


if __name__ == "__main__":
    sys.exit(main())
