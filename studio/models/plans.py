"""Memory plans: how a model that does not fit whole on the device still runs.

A request's models are described by a ``Footprint``: the bytes of each part (text encoders,
denoiser, ControlNets, VAE...), the stages in which they run one after the other, and the
working memory (activations) each stage needs on top of its weights. ``choose`` returns the
cheapest plan whose estimated peak fits the budget, cheapest first:

- ``whole``: every part on the device.
- ``model offload``: parts moved onto the device stage by stage (diffusers'
  ``enable_model_cpu_offload``), the rest parked in CPU RAM; the peak is the largest stage.
- ``block offload``: the parts stream onto the device layer by layer (diffusers' group
  offloading, on CUDA streams where there are some); the peak is a few layers plus the
  working memory.

Each may add VAE tiling (the decode in tiles, when a whole-image decode would not fit) and,
when the setting asks for it, fp8 storage of the denoiser (half its bytes, a small loss of
detail). Pure arithmetic: no torch here, so the planning command runs anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

GB = 1024**3

WHOLE, MODEL_OFFLOAD, BLOCK_OFFLOAD = "whole", "model offload", "block offload"
# Estimated time against whole-on-device, for a one-image run at about a megapixel on a
# PCIe 4 workstation: model offload moves each part in once per image; block offload streams
# every layer in on every step, overlapped with compute where CUDA streams allow.
SLOWDOWN = {WHOLE: 1.0, MODEL_OFFLOAD: 1.3, BLOCK_OFFLOAD: 2.0}
FP8_SLOWDOWN = 1.1  # upcasting each layer's fp8 weights to the compute dtype as it runs
# Group offloading prefetches the next layer while one runs: two resident at a time.
LAYERS_RESIDENT = 2


@dataclass(frozen=True)
class Stage:
    """Parts that must be on the device together, and the working memory they need."""

    name: str
    parts: tuple[str, ...]
    working_bytes: int
    # The working memory when the VAE decodes in tiles (decode / encode stages only).
    tiled_working_bytes: int | None = None


@dataclass(frozen=True)
class Footprint:
    parts: dict[str, int]  # part -> bytes as loaded
    stages: tuple[Stage, ...]  # in the order a run goes through them
    largest_layer: dict[str, int] = field(default_factory=dict)  # part -> its biggest leaf module
    fp8_parts: tuple[str, ...] = ()  # parts fp8 storage halves (the denoiser), when opted in

    @property
    def total_bytes(self) -> int:
        return sum(self.parts.values())


@dataclass(frozen=True)
class MemoryPlan:
    name: str
    peak_bytes: int  # the estimated device peak: resident weights plus working memory
    budget_bytes: int | None
    vae_tiling: bool = False
    fp8_storage: bool = False
    fits: bool = True
    reason: str = ""  # when it does not fit: why, with the numbers

    @property
    def offloaded(self) -> bool:
        return self.name != WHOLE

    @property
    def slowdown(self) -> float:
        return round(SLOWDOWN[self.name] * (FP8_SLOWDOWN if self.fp8_storage else 1.0), 2)

    @property
    def label(self) -> str:
        extras = [x for x, on in (("VAE tiling", self.vae_tiling), ("fp8 storage", self.fp8_storage)) if on]
        return self.name + (f" + {' + '.join(extras)}" if extras else "")

    def note(self) -> str:
        """One line for the UI, e.g. "model offload: about 1.3× slower (peak ~5.9 of 6.0 GB)"."""
        speed = "full speed" if self.slowdown == 1.0 else f"about {self.slowdown:g}× slower"
        budget = f" of {human(self.budget_bytes)}" if self.budget_bytes else ""
        return f"{self.label}: {speed} (peak ~{human(self.peak_bytes)}{budget})"

    def as_dict(self) -> dict:
        return {"plan": self.label, "peak_gb": round(self.peak_bytes / GB, 2),
                "budget_gb": None if self.budget_bytes is None else round(self.budget_bytes / GB, 2),
                "fits": self.fits, "offload": self.name, "vae_tiling": self.vae_tiling,
                "fp8_storage": self.fp8_storage, "slowdown": self.slowdown, "reason": self.reason}


def human(size: int) -> str:
    """Bytes as GB, or MB below a tenth of a GB (the tiny twins)."""
    return f"{size / GB:.2f} GB" if size >= GB / 10 else f"{size / 1024**2:.1f} MB"


def _bytes(footprint: Footprint, part: str, fp8: bool) -> int:
    size = footprint.parts.get(part, 0)
    return size // 2 if fp8 and part in footprint.fp8_parts else size


def _working(stage: Stage, tiled: bool) -> int:
    if tiled and stage.tiled_working_bytes is not None:
        return stage.tiled_working_bytes
    return stage.working_bytes


def peak(footprint: Footprint, name: str, tiled: bool = False, fp8: bool = False) -> int:
    """The estimated device peak of running ``footprint`` under plan ``name``."""
    if name == WHOLE:
        weights = sum(_bytes(footprint, part, fp8) for part in footprint.parts)
        return weights + max((_working(s, tiled) for s in footprint.stages), default=0)
    if name == MODEL_OFFLOAD:
        return max((sum(_bytes(footprint, p, fp8) for p in s.parts) + _working(s, tiled)
                    for s in footprint.stages), default=0)
    if name == BLOCK_OFFLOAD:
        def resident(part: str) -> int:
            layer = footprint.largest_layer.get(part, footprint.parts.get(part, 0))
            return min(_bytes(footprint, part, fp8), LAYERS_RESIDENT * (layer // 2 if fp8 and part in footprint.fp8_parts else layer))

        return max((sum(resident(p) for p in s.parts) + _working(s, tiled) for s in footprint.stages), default=0)
    raise ValueError(f"unknown plan {name!r}")


def choose(footprint: Footprint, budget_bytes: int | None, ram_bytes: int | None = None,
           allow_fp8: bool = False) -> MemoryPlan:
    """The cheapest plan whose peak fits ``budget_bytes`` (None: unbounded, so whole).

    Cheapest first: whole, whole with VAE tiling, model offload (then with tiling), fp8 storage
    of the denoiser with those (only with ``allow_fp8``), then block offload. When even block
    offload does not fit, or the weights do not fit in ``ram_bytes`` while offloaded, the
    smallest plan is returned with ``fits`` False and the reason with the numbers."""
    if budget_bytes is None:
        return MemoryPlan(WHOLE, peak(footprint, WHOLE), None)
    fp8_choices = (False, True) if allow_fp8 and footprint.fp8_parts else (False,)
    ladder = [(WHOLE, False), (WHOLE, True), (MODEL_OFFLOAD, False), (MODEL_OFFLOAD, True)]
    candidates = [(name, tiled, fp8) for fp8 in fp8_choices for name, tiled in ladder]
    candidates += [(BLOCK_OFFLOAD, tiled, fp8) for fp8 in fp8_choices for tiled in (False, True)]
    has_tiling = any(s.tiled_working_bytes is not None for s in footprint.stages)
    for name, tiled, fp8 in candidates:
        if tiled and not has_tiling:
            continue
        estimate = peak(footprint, name, tiled, fp8)
        if estimate <= budget_bytes:
            plan = MemoryPlan(name, estimate, budget_bytes, vae_tiling=tiled, fp8_storage=fp8)
            return _check_ram(plan, footprint, ram_bytes)
    smallest = MemoryPlan(BLOCK_OFFLOAD, peak(footprint, BLOCK_OFFLOAD, has_tiling, fp8_choices[-1]), budget_bytes,
                          vae_tiling=has_tiling, fp8_storage=fp8_choices[-1], fits=False)
    return replace(smallest, reason=(
        f"even {smallest.label} needs about {human(smallest.peak_bytes)} on the device at its peak, "
        f"more than the {human(budget_bytes)} budget"
    ))


def _check_ram(plan: MemoryPlan, footprint: Footprint, ram_bytes: int | None) -> MemoryPlan:
    if not plan.offloaded or ram_bytes is None:
        return plan
    parked = sum(_bytes(footprint, p, plan.fp8_storage) for p in footprint.parts)
    if parked <= ram_bytes:
        return plan
    return replace(plan, fits=False, reason=(
        f"{plan.label} parks the weights in CPU RAM: {human(parked)}, but only {human(ram_bytes)} "
        "of RAM is free for them"
    ))
