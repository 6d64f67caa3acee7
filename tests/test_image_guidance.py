"""Fooocus's guidance hooks (sharpness, adaptive CFG, ADM scalers) on the tiny twins: at their
identity values the plain pipeline's pixels bit for bit; each hook's arithmetic on a stand-in
UNet; sharpness changes pixels; the shared UNet is never changed; families without CFG or ADM
say so; the values travel in the PNG and come back."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np
import pytest

from studio.image import anisotropic, checkpoints, guidance
from studio.image.families import FAMILIES
from studio.image.generate import generate_images
from studio.image.request import HOOKS_OFF, ImageRequest
from studio.pictures import metadata
from tests.image_helpers import image_ctx, pixels  # noqa: F401  (fixture)

SDXL = "stabilityai/stable-diffusion-xl-base-1.0"
SD15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"
ZIMAGE = "Tongyi-MAI/Z-Image-Turbo"
SMALL = dict(prompt="a lighthouse on a cliff", width=256, height=256, steps=6, seed=11, cfg=7.0)
IDENTITY = dict(sharpness=0.0, adaptive_cfg=7.0, adm_scaler_positive=1.0, adm_scaler_negative=1.0)  # at CFG 7


def run(ctx, folder=None, **fields):
    return generate_images(ctx, ImageRequest(**{**SMALL, **fields}), folder)[0]


def bare(ctx, checkpoint: str):
    """What a script would write: the pipeline's own call, the same settings and sampler."""
    import torch

    with ctx.cache.use(checkpoints.spec(ctx, checkpoint)) as model:
        family, base = model.family, model.pipeline
        pipe = family.task_pipeline(base, "txt2img", family.make_scheduler(base, "DPM++ 2M Karras"))
        return pipe(prompt=SMALL["prompt"], width=256, height=256, num_inference_steps=SMALL["steps"],
                    generator=torch.Generator("cpu").manual_seed(SMALL["seed"]), **family.call_kwargs(7.0)).images[0]


@pytest.mark.parametrize("checkpoint", [SDXL, SD15])
def test_every_hook_at_its_identity_gives_the_plain_pipelines_pixels_exactly(image_ctx, checkpoint):
    studio = run(image_ctx, checkpoint=checkpoint, **IDENTITY)
    assert np.array_equal(pixels(studio), np.asarray(bare(image_ctx, checkpoint).convert("RGB"), dtype=np.int16))
    assert studio.parameters["resolved"]["guidance"]["sharpness"] == 0.0


@pytest.mark.parametrize("identity", [
    dict(sharpness=0.0), dict(adaptive_cfg=7.0), dict(adaptive_cfg=30.0), dict(adm_positive=1.0, adm_negative=1.0),
    dict(adm_positive=1.5, adm_negative=0.8, adm_end=0.0),
])
def test_each_hook_at_its_identity_wraps_nothing(identity):
    """Every hook off (each one by its own identity value): the pipeline is not touched at all."""
    values = dict(cfg=7.0, guided=True, sharpness=0.0, adaptive_cfg=7.0, adm_positive=1.0, adm_negative=1.0, adm_end=0.3)
    hooks = guidance.Guidance(**{**values, **identity})
    assert not hooks.active
    pipe = SimpleNamespace(unet=object())
    unet = pipe.unet
    with guidance.hooked(pipe, hooks):
        assert pipe.unet is unet


def test_the_default_request_asks_for_fooocus_s_values():
    request = ImageRequest()
    assert (request.sharpness, request.adaptive_cfg) == (2.0, 7.0)
    assert (request.adm_scaler_positive, request.adm_scaler_negative, request.adm_scaler_end) == (1.5, 0.8, 0.3)
    assert request.clip_skip is None


@pytest.mark.parametrize("checkpoint", [SDXL, SD15])
def test_sharpness_changes_the_pixels(image_ctx, checkpoint):
    plain = run(image_ctx, checkpoint=checkpoint, **IDENTITY)
    sharp = run(image_ctx, checkpoint=checkpoint, **{**IDENTITY, "sharpness": 30.0})
    assert not np.array_equal(pixels(plain), pixels(sharp))
    assert sharp.parameters["resolved"]["guidance"]["sharpness"] == 30.0


def test_adaptive_cfg_and_adm_change_the_pixels_on_sdxl(image_ctx):
    plain = pixels(run(image_ctx, **{**IDENTITY, "cfg": 12.0, "adaptive_cfg": 30.0}))
    mimicked = pixels(run(image_ctx, **{**IDENTITY, "cfg": 12.0, "adaptive_cfg": 4.0}))
    assert not np.array_equal(plain, mimicked)
    scaled = pixels(run(image_ctx, **{**IDENTITY, "cfg": 12.0, "adaptive_cfg": 30.0, "adm_scaler_positive": 1.5}))
    assert not np.array_equal(plain, scaled)


# --- the arithmetic, on a stand-in UNet -----------------------------------------------------


class StandInUNet:
    """Predicts 0 for the negative half and 1 for the positive, and records the time ids it saw."""

    config = SimpleNamespace(out_channels=4, time_cond_proj_dim=None)

    def __init__(self):
        self.time_ids = []

    def __call__(self, sample, timestep, added_cond_kwargs=None, return_dict=False, **_):
        import torch

        self.time_ids.append(added_cond_kwargs["time_ids"].clone())
        half = sample.shape[0] // 2
        return (torch.cat([torch.zeros_like(sample[:half]), torch.ones_like(sample[half:])]),)


def stand_in(hooks: guidance.Guidance):
    from diffusers import DDIMScheduler

    unet = StandInUNet()
    pipe = SimpleNamespace(do_classifier_free_guidance=True, scheduler=DDIMScheduler(), unet=unet)
    return unet, guidance.GuidedDenoiser(unet, pipe, hooks)


def call(denoiser, t: int, time_ids=None):
    import torch

    ids = torch.tensor([[1024.0, 1152.0, 0, 0, 1024, 1152]] * 2) if time_ids is None else time_ids
    out = denoiser(torch.zeros(2, 4, 8, 8), torch.tensor(t), added_cond_kwargs={"time_ids": ids, "text_embeds": None})[0]
    uncond, cond = out.chunk(2)
    return float((uncond + denoiser._guidance.cfg * (cond - uncond)).mean())  # the pipeline's own CFG line


def test_adaptive_cfg_scales_from_the_mimic_value_to_the_real_cfg_over_the_steps():
    _, denoiser = stand_in(guidance.Guidance(cfg=12.0, guided=True, adaptive_cfg=4.0))
    assert call(denoiser, 999) == pytest.approx(4.0)  # the first step: the mimic scale
    assert call(denoiser, 0) == pytest.approx(12.0)  # the last: the real CFG
    assert call(denoiser, 999 // 2 + 1) == pytest.approx(8.0, abs=0.01)  # halfway: halfway


def test_adm_scalers_act_on_the_original_size_until_their_end():
    import torch

    unet, denoiser = stand_in(guidance.Guidance(cfg=7.0, guided=True, adm_positive=1.5, adm_negative=0.8, adm_end=0.3))
    ids = torch.tensor([[1024.0, 1152.0, 0, 0, 1024, 1152]] * 2)
    call(denoiser, 999, ids)
    call(denoiser, 500, ids)
    early, late = unet.time_ids
    assert early[0].tolist() == [819.0, 921.0, 0, 0, 1024, 1152]  # negative: ×0.8, whole pixels
    assert early[1].tolist() == [1536.0, 1728.0, 0, 0, 1024, 1152]  # positive: ×1.5
    assert torch.equal(late, ids) and ids[1, 0] == 1024.0  # after 30% of the way: the real size; never in place


def test_sharpness_leaves_a_flat_prediction_alone_and_weighs_more_at_the_end():
    _, denoiser = stand_in(guidance.Guidance(cfg=7.0, guided=True, sharpness=30.0))
    assert call(denoiser, 999) == pytest.approx(7.0) and call(denoiser, 0) == pytest.approx(7.0)  # flat: nothing to blur


def test_the_anisotropic_filter_smooths_flat_parts_and_keeps_edges():
    import torch

    generator = torch.Generator().manual_seed(0)
    step = torch.zeros(1, 4, 32, 32)
    step[..., 16:] = 1.0
    noisy = step + 0.05 * torch.randn(step.shape, generator=generator)
    smoothed = anisotropic.adaptive_filter(noisy, step)
    assert smoothed[..., :, 2:12].std() < noisy[..., :, 2:12].std() / 2  # the flat half is smoothed
    assert (smoothed[..., 20:].mean() - smoothed[..., :12].mean()) > 0.95  # the edge stays


# --- per request, never shared --------------------------------------------------------------


def test_the_shared_unet_is_never_changed_and_two_requests_at_once_keep_their_own_pixels(image_ctx):
    alone_sharp = pixels(run(image_ctx, **{**IDENTITY, "sharpness": 30.0}))
    alone_plain = pixels(run(image_ctx, **IDENTITY))
    together = {}

    def draw(name, fields):
        together[name] = pixels(run(image_ctx, **fields))

    threads = [threading.Thread(target=draw, args=("sharp", {**IDENTITY, "sharpness": 30.0})),
               threading.Thread(target=draw, args=("plain", IDENTITY))]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert np.array_equal(together["sharp"], alone_sharp) and np.array_equal(together["plain"], alone_plain)
    with image_ctx.cache.use(checkpoints.spec(image_ctx, SDXL)) as model:
        assert type(model.pipeline.unet).__name__ == "UNet2DConditionModel"


# --- families, presets ------------------------------------------------------------------------


def test_families_without_cfg_or_adm_say_so_and_ignore_the_hooks(image_ctx):
    for name in ("flux", "zimage"):
        assert {"sharpness", "adaptive_cfg", "adm_guidance", "clip_skip"} <= set(FAMILIES[name].unused)
    assert set(FAMILIES["sd15"].unused) >= {"adm_guidance"} and FAMILIES["sd15"].uses("sharpness")
    assert all(FAMILIES["sdxl"].uses(c) for c in ("sharpness", "adaptive_cfg", "adm_guidance", "clip_skip"))
    default = run(image_ctx, checkpoint=ZIMAGE, cfg=None, steps=2)
    asked = run(image_ctx, checkpoint=ZIMAGE, cfg=None, steps=2, sharpness=9.0, adm_scaler_positive=2.0)
    assert np.array_equal(pixels(default), pixels(asked))
    assert any("Sharpness does not apply here" in n and "Z-Image" in n for n in asked.notes)
    assert any("Adm guidance does not apply here" in n for n in asked.notes)
    assert not any("does not apply" in n for n in default.notes)  # the defaults are never a note


def test_the_distilled_presets_run_without_the_hooks(image_ctx):
    lightning = run(image_ctx, performance="Lightning", cfg=None, steps=None, sharpness=30.0)
    off = run(image_ctx, performance="Lightning", cfg=None, steps=None, sharpness=0.0, adm_scaler_positive=1.0,
              adm_scaler_negative=1.0)
    assert np.array_equal(pixels(lightning), pixels(off))
    assert lightning.parameters["resolved"]["guidance"]["adm_scaler_positive"] == 1.0


@pytest.mark.parametrize("fields,message", [
    (dict(sharpness=31), "Sharpness must be between 0 and 30"),
    (dict(adaptive_cfg=0.5), "Adaptive CFG must be between 1 and 30"),
    (dict(adm_scaler_positive=4), "Positive ADM scaler must be between 0.1 and 3"),
    (dict(adm_scaler_end=1.5), "ADM guidance end must be between 0 and 1"),
    (dict(clip_skip=13), "CLIP skip must be between 1 and 12"),
])
def test_out_of_range_values_are_a_sentence(image_ctx, fields, message):
    from studio.errors import BadInput

    with pytest.raises(BadInput, match=message):
        run(image_ctx, **fields)


# --- metadata ---------------------------------------------------------------------------------


def test_the_hooks_are_stored_in_the_png_and_read_back(image_ctx, tmp_path):
    asked = dict(sharpness=5.5, adaptive_cfg=4.0, cfg=9.0, adm_scaler_positive=1.2, adm_scaler_negative=0.9,
                 adm_scaler_end=0.5)
    made = run(image_ctx, tmp_path, **asked)
    found = metadata.read_parameters(made.path)
    restored = ImageRequest.from_parameters(found["studio"]["request"])
    assert {k: getattr(restored, k) for k in asked} == asked
    assert np.array_equal(pixels(run(image_ctx, **{**SMALL, **asked})), pixels(made))
    # Other tools (and the studio, from an A1111-only copy) read the same values in the text chunk.
    fields, _ = metadata.request_fields_from_a1111(metadata.parse_a1111(found["parameters"]))
    assert {k: fields[k] for k in asked} == asked


def test_a_picture_saved_before_the_hooks_comes_back_with_them_off():
    old = ImageRequest(prompt="x").parameters()
    for key in HOOKS_OFF:
        old.pop(key)
    restored = ImageRequest.from_parameters(old)
    assert {k: getattr(restored, k) for k in HOOKS_OFF} == HOOKS_OFF
    hooks, _ = guidance.resolve(FAMILIES["sdxl"], 30.0, restored.sharpness, restored.adaptive_cfg,
                                (restored.adm_scaler_positive, restored.adm_scaler_negative, restored.adm_scaler_end),
                                False)
    assert not hooks.active  # even at the highest CFG


def test_a_pipeline_that_batches_guidance_its_own_way_is_left_alone_and_said():
    import torch

    unet, denoiser = stand_in(guidance.Guidance(cfg=7.0, guided=True, sharpness=30.0, adm_positive=1.5, adm_end=0.3))
    denoiser._pipe.do_perturbed_attention_guidance = True  # PAG: [negative, positive, perturbed]
    ids = torch.tensor([[1024.0, 1024.0, 0, 0, 1024, 1024]] * 3)
    out = denoiser(torch.zeros(3, 4, 8, 8), torch.tensor(500), added_cond_kwargs={"time_ids": ids})[0]
    assert denoiser.passed_over and torch.equal(unet.time_ids[0], ids) and out[2].eq(1).all()
