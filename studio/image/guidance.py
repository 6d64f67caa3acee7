"""Fooocus's guidance hooks on a diffusers UNet pipeline: sharpness, adaptive CFG (CFG
"mimicking") and the ADM scalers, without forking the pipeline.

For the length of one pipeline call the request's own pipeline object reads its ``unet``
through ``GuidedDenoiser``, which calls the shared UNet unchanged and adjusts what goes in
(the ADM size conditioning) and what comes out (the positive half of the batch). The
pipeline's own CFG line ``uncond + cfg × (cond − uncond)`` then lands on the guided result:
the positive half handed back is ``uncond + (guided − uncond) / cfg``. Nothing shared is
touched (the UNet module, its hooks, other requests' pipelines), and with every hook at its
identity value nothing is wrapped at all, so the pixels are the plain pipeline's, bit for bit.

What each hook does, with Fooocus's figures (progress p runs 0 → 1 as the timestep falls
from the first to the last of the schedule, p = 1 − t / 999):

- **Sharpness s** (0–30, default 2): the positive noise prediction is blended with an
  edge-preserving blur of itself (studio.image.anisotropic), guided by the image it implies;
  the blend's weight 0.001 · s · p grows over the steps (Fooocus's own schedule), so it acts on
  the fine detail of the last steps, not on the composition. Predicted noise blurred (but not
  across the image's edges) takes less fine texture away as noise, which reads as crisper detail.
- **Adaptive CFG a** (1–30, default 7): when CFG c is above a, each step's result is the
  real-CFG result weighted p and the result at the mimic scale a weighted 1 − p, i.e. an
  effective scale a → c over the steps: early steps are not burnt by a high CFG.
- **ADM scalers** (positive ×1.5, negative ×0.8, 0.1–3 each, until 0.3 of the steps): SDXL's
  size conditioning ("original size" in its time ids) tells the positive branch it is
  drawing a larger picture and the negative a smaller one, which Fooocus found adds detail;
  after ``adm_end`` of the steps both branches see the real size again. SDXL only.

Sharpness and adaptive CFG act only where the negative branch runs (CFG above 1), as in
Fooocus; the distilled presets (LCM, Lightning) run without any of them, as in Fooocus.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

from studio.image import anisotropic
from studio.image.families.base import ImageFamily

if TYPE_CHECKING:
    import torch
    from diffusers import DiffusionPipeline

# Fooocus's defaults and slider ranges.
DEFAULT_SHARPNESS = 2.0
SHARPNESS_RANGE = (0.0, 30.0)
DEFAULT_ADAPTIVE_CFG = 7.0
ADAPTIVE_CFG_RANGE = (1.0, 30.0)
DEFAULT_ADM_POSITIVE = 1.5
DEFAULT_ADM_NEGATIVE = 0.8
ADM_SCALE_RANGE = (0.1, 3.0)
DEFAULT_ADM_END = 0.3
ADM_END_RANGE = (0.0, 1.0)
SHARPNESS_WEIGHT = 0.001  # the blend weight per unit of sharpness, at the last step

# What a family declares in ``ImageFamily.unused`` when a hook does not apply to it.
CONTROLS = ("sharpness", "adaptive_cfg", "adm_guidance")
DENOISER = "unet"  # the hooks are written for a UNet's noise prediction (SDXL, SD 1.5)
TIME_IDS = 6  # SDXL's time ids: original h, w, crop top, left, target h, w


@dataclass(frozen=True)
class Guidance:
    """The hooks as one image is drawn with them (each at its identity value when off)."""

    cfg: float
    guided: bool = False  # the negative branch runs (CFG above the family's threshold)
    sharpness: float = 0.0
    adaptive_cfg: float = ADAPTIVE_CFG_RANGE[1]
    adm_positive: float = 1.0
    adm_negative: float = 1.0
    adm_end: float = 0.0

    @property
    def sharpens(self) -> bool:
        return self.guided and self.sharpness > 0

    @property
    def mimics(self) -> bool:
        return self.guided and self.cfg > self.adaptive_cfg

    @property
    def scales_adm(self) -> bool:
        return self.adm_end > 0 and (self.adm_positive != 1.0 or self.adm_negative != 1.0)

    @property
    def active(self) -> bool:
        return self.sharpens or self.mimics or self.scales_adm

    def record(self) -> dict[str, float]:
        """For the image's metadata (studio scheme)."""
        return {"sharpness": self.sharpness, "adaptive_cfg": self.adaptive_cfg, "adm_scaler_positive": self.adm_positive,
                "adm_scaler_negative": self.adm_negative, "adm_scaler_end": self.adm_end}

    def a1111_fields(self) -> dict[str, str]:
        """For the "parameters" text, under the names Fooocus's A1111 scheme writes."""
        return {"Sharpness": f"{self.sharpness:g}", "Adaptive CFG": f"{self.adaptive_cfg:g}",
                "ADM Guidance": f"({self.adm_positive:g}, {self.adm_negative:g}, {self.adm_end:g})"}


def off(cfg: float) -> Guidance:
    """No hook: adaptive CFG at the CFG itself (as Fooocus sets it for its distilled modes)."""
    return Guidance(cfg=cfg, adaptive_cfg=min(max(cfg, ADAPTIVE_CFG_RANGE[0]), ADAPTIVE_CFG_RANGE[1]))


def resolve(family: ImageFamily, cfg: float, sharpness: float, adaptive_cfg: float, adm: tuple[float, float, float],
            distilled: bool) -> tuple[Guidance, list[str]]:
    """The hooks a request gets on ``family`` at ``cfg``, and notes on those asked for that do not
    act (only for a value other than the default, so a default is never a note). ``distilled``:
    a few-step preset (LCM, Lightning), which runs without them."""
    if distilled:
        return off(cfg), []
    asked = {
        "sharpness": sharpness != DEFAULT_SHARPNESS,
        "adaptive_cfg": adaptive_cfg != DEFAULT_ADAPTIVE_CFG,
        "adm_guidance": tuple(adm) != (DEFAULT_ADM_POSITIVE, DEFAULT_ADM_NEGATIVE, DEFAULT_ADM_END),
    }
    notes = [f"{control.replace('_', ' ').capitalize()} does not apply here: {family.unused[control]}"
             for control in CONTROLS if asked[control] and not family.uses(control)]
    guided = family.guidance_active(cfg)  # sharpness and mimicking act on the CFG step only
    if not guided and family.uses("sharpness") and (asked["sharpness"] or asked["adaptive_cfg"]):
        notes.append(f"Sharpness and adaptive CFG act only with guidance: CFG above {family.guidance_threshold:g}.")
    positive, negative, end = adm if family.uses("adm_guidance") else (1.0, 1.0, 0.0)
    return Guidance(
        cfg=cfg, guided=guided,
        sharpness=sharpness if family.uses("sharpness") else 0.0,
        adaptive_cfg=adaptive_cfg if family.uses("adaptive_cfg") else off(cfg).adaptive_cfg,
        adm_positive=positive, adm_negative=negative, adm_end=end,
    ), notes


@contextmanager
def hooked(pipe: DiffusionPipeline, guidance: Guidance | None) -> Iterator[GuidedDenoiser | None]:
    """``pipe`` calls its UNet through the hooks while inside (nothing changes when they are off);
    yields the stand-in (None when nothing is wrapped), which says afterwards whether it had to
    leave a step alone."""
    denoiser = getattr(pipe, DENOISER, None)
    if guidance is None or not guidance.active or denoiser is None:
        yield None
        return
    stand_in = GuidedDenoiser(denoiser, pipe, guidance)
    # object.__setattr__: the pipeline's own __setattr__ would record the stand-in in its config.
    object.__setattr__(pipe, DENOISER, stand_in)
    try:
        yield stand_in
    finally:
        object.__setattr__(pipe, DENOISER, denoiser)


PASSED_OVER = ("The guidance hooks (sharpness, adaptive CFG, ADM) were left out: this pipeline batches its guidance "
               "its own way (not one negative and one positive half).")


class GuidedDenoiser:
    """The UNet as one pipeline call sees it: the same module (every attribute is the UNet's),
    called with the ADM conditioning scaled and its positive prediction guided."""

    def __init__(self, unet: torch.nn.Module, pipe: DiffusionPipeline, guidance: Guidance):
        self._unet = unet
        self._pipe = pipe
        self._guidance = guidance
        self.passed_over = False  # a step whose batch is not [negative, positive] was left as it is

    def __getattr__(self, name: str) -> Any:
        return getattr(self._unet, name)

    def __call__(self, sample: torch.Tensor, timestep: torch.Tensor | float, *args: Any, **kwargs: Any) -> Any:
        guided = bool(self._pipe.do_classifier_free_guidance)
        if not self._halves(sample, guided):  # e.g. perturbed-attention guidance's three parts
            self.passed_over = True
            return self._unet(sample, timestep, *args, **kwargs)
        progress = self._progress(timestep)
        if self._guidance.scales_adm and kwargs.get("added_cond_kwargs"):
            kwargs["added_cond_kwargs"] = self._scaled_adm(kwargs["added_cond_kwargs"], progress, guided)
        result = self._unet(sample, timestep, *args, **kwargs)
        if not guided or not (self._guidance.sharpens or self._guidance.mimics):
            return result
        prediction = result[0] if isinstance(result, tuple) else result.sample
        steered = self._steered(prediction, sample, timestep, progress)
        if isinstance(result, tuple):
            return (steered,) + tuple(result[1:])
        result.sample = steered
        return result

    # -- the pieces --

    def _halves(self, sample: torch.Tensor, guided: bool) -> bool:
        """Whether the batch is the plain CFG layout the hooks are written for: [negative, positive]
        halves under CFG (the positive alone without)."""
        if getattr(self._pipe, "do_perturbed_attention_guidance", False):
            return False
        return not guided or sample.shape[0] % 2 == 0

    def _last_timestep(self) -> float:
        return float(getattr(self._pipe.scheduler.config, "num_train_timesteps", 1000) - 1)

    def _progress(self, timestep: torch.Tensor | float) -> float:
        t = float(timestep.flatten()[0]) if hasattr(timestep, "flatten") else float(timestep)
        return min(1.0, max(0.0, 1.0 - t / self._last_timestep()))

    def _scaled_adm(self, added: dict[str, Any], progress: float, guided: bool) -> dict[str, Any]:
        """SDXL's time ids with the original size scaled (negative rows first under CFG), while the
        scalers last; a copy: the pipeline reuses its own dict at every step."""
        import torch

        ids = added.get("time_ids")
        if ids is None or ids.shape[-1] != TIME_IDS or progress >= self._guidance.adm_end:
            return added
        rows = ids.shape[0]
        if guided:
            factors = [self._guidance.adm_negative] * (rows // 2) + [self._guidance.adm_positive] * (rows - rows // 2)
        else:
            factors = [self._guidance.adm_positive] * rows
        scale = torch.tensor(factors, dtype=ids.dtype, device=ids.device)[:, None]
        scaled = ids.clone()
        scaled[:, :2] = torch.floor(ids[:, :2] * scale)  # whole pixels, as Fooocus writes them
        return {**added, "time_ids": scaled}

    def _steered(self, prediction: torch.Tensor, sample: torch.Tensor, timestep: torch.Tensor | float,
                 progress: float) -> torch.Tensor:
        """The batch [uncond, cond'] such that the pipeline's CFG line gives the guided result."""
        import torch

        uncond, cond = prediction.float().chunk(2)
        if self._guidance.sharpens:
            cond = cond + self._sharpening(cond, sample, timestep, progress)
        cfg = self._guidance.cfg
        effective = cfg
        if self._guidance.mimics:
            effective = cfg * progress + self._guidance.adaptive_cfg * (1.0 - progress)
        cond = uncond + (cond - uncond) * (effective / cfg)
        return torch.cat([uncond, cond]).to(prediction.dtype)

    def _sharpening(self, cond: torch.Tensor, sample: torch.Tensor, timestep: torch.Tensor | float,
                    progress: float) -> torch.Tensor | float:
        """What the sharpness adds to the positive prediction, in the prediction's own terms."""
        weight = SHARPNESS_WEIGHT * self._guidance.sharpness * progress
        if weight == 0:
            return 0.0
        channels = cond.shape[1]
        noisy = sample.float().chunk(2)[1][:, :channels]  # the UNet's input x_t (an inpaint UNet's extras cut)
        signal = self._alpha_bar(timestep)
        keep, noise = math.sqrt(signal), math.sqrt(1.0 - signal)
        kind = getattr(self._pipe.scheduler.config, "prediction_type", "epsilon")
        if kind == "v_prediction":
            eps, to_prediction = keep * cond + noise * noisy, 1.0 / keep
        elif kind == "epsilon":
            eps, to_prediction = cond, 1.0
        else:  # a model that predicts the image itself: no noise to filter
            return 0.0
        implied_image = noisy - noise * eps  # the clean image the prediction implies, up to its scale
        return (anisotropic.adaptive_filter(eps, implied_image) - eps) * (weight * to_prediction)

    def _alpha_bar(self, timestep: torch.Tensor | float) -> float:
        """ᾱ at ``timestep`` from the scheduler's table (Karras sigmas give fractional timesteps)."""
        table = self._pipe.scheduler.alphas_cumprod
        t = min(max(float(timestep.flatten()[0]) if hasattr(timestep, "flatten") else float(timestep), 0.0),
                len(table) - 1.0)
        low = int(math.floor(t))
        high = min(low + 1, len(table) - 1)
        share = t - low
        return float(table[low]) * (1 - share) + float(table[high]) * share
