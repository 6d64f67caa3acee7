"""FLUX.1 schnell, the family added as one module (studio/image/families/flux.py): txt2img,
img2img and inpaint through diffusers' Flux pipelines on its tiny twin, its unused controls, its
English-only encoder, its packed-latent previews, its memory plans and what it refuses."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from studio.errors import BadInput
from studio.image.families import FAMILIES
from studio.image.generate import generate_images
from studio.image.request import ImageRequest
from tests.image_helpers import image_ctx, pixels  # noqa: F401  (fixture)

FLUX_ID = "black-forest-labs/FLUX.1-schnell"
SMALL = dict(width=256, height=256, checkpoint=FLUX_ID)


def run(ctx, **fields):
    return generate_images(ctx, ImageRequest(**{**SMALL, **fields}), None)


def test_flux_draws_in_four_steps_and_a_seed_reproduces(image_ctx):
    first = run(image_ctx, prompt="a red fox in the snow", seed=41, image_number=2, steps=None)
    again = run(image_ctx, prompt="a red fox in the snow", seed=42, steps=None)
    assert [r.seed for r in first] == [41, 42]
    assert first[0].steps_run == 4 and first[0].scheduler_used == "FlowMatchEulerDiscreteScheduler"
    assert np.array_equal(pixels(first[1]), pixels(again[0]))  # image 2 of seed 41 == image 1 of seed 42
    assert not np.array_equal(pixels(first[0]), pixels(first[1]))
    assert first[0].image.size == (256, 256)


def test_the_negative_prompt_acts_only_with_true_cfg_above_one(image_ctx):
    plain = run(image_ctx, prompt="a fox", seed=3)[0]
    ignored = run(image_ctx, prompt="a fox", negative_prompt="blurry", seed=3)[0]
    assert np.array_equal(pixels(plain), pixels(ignored))  # CFG 1: no second pass
    assert any("no effect at CFG 1" in note for note in ignored.notes)
    guided = run(image_ctx, prompt="a fox", negative_prompt="blurry", cfg=3.0, seed=3)[0]
    assert not np.array_equal(pixels(plain), pixels(guided))


def test_img2img_and_inpaint_keep_the_pictures_size_and_count_their_steps(image_ctx):
    start = Image.new("RGB", (320, 256), (120, 80, 40))
    moved = run(image_ctx, prompt="a fox", task="img2img", init_image=start, strength=0.5, steps=4, seed=3)[0]
    assert moved.image.size == (320, 256)  # its pipeline would draw at 1024² if not told the size
    assert moved.steps_run == FAMILIES["flux"].steps_run(4, 0.5) == 2
    mask = Image.new("L", (320, 256), 0)
    mask.paste(255, (96, 64, 224, 192))
    filled = run(image_ctx, prompt="a fox", task="inpaint", init_image=start, mask_image=mask, strength=1.0,
                 steps=4, seed=3)[0]
    assert filled.image.size == (320, 256) and filled.steps_run == 4


def test_weights_are_dropped_with_a_note_and_a_chinese_prompt_is_expanded_as_sentences():
    from studio.prompts.for_image import should_expand

    flux = FAMILIES["flux"]
    assert flux.reads_english_only and not flux.prompt_weights
    assert should_expand("一隻紅狐狸", "flux") and not should_expand("一隻紅狐狸", "zimage")
    assert flux.expansion_target == "zimage"  # natural sentences, for T5


def test_weights_note(image_ctx):
    result = run(image_ctx, prompt="a (red:1.4) fox", seed=2)[0]
    assert result.prompt == "a red fox"
    assert any("given the words without them" in note for note in result.notes)


def test_previews_unpack_the_packed_latents_as_the_pipeline_does():
    import torch
    from diffusers import FluxPipeline

    packed = torch.randn(1, (96 // 16) * (64 // 16), 64)
    expected = FluxPipeline._unpack_latents(packed, 96, 64, vae_scale_factor=8)[0]
    assert torch.equal(FAMILIES["flux"].latent_image(packed[0], 64, 96), expected)


def test_unused_controls_say_why_and_image_prompts_are_refused(image_ctx):
    flux = FAMILIES["flux"]
    assert set(flux.unused) == {"negative_prompt", "performance", "scheduler", "sharpness", "adaptive_cfg",
                                "adm_guidance", "clip_skip"}
    face = Image.new("RGB", (256, 256), (200, 180, 160))
    with pytest.raises(BadInput, match="FLUX.1 schnell has no ImagePrompt image prompt"):
        run(image_ctx, prompt="a face", seed=1, image_prompts=({"image": face, "type": "ImagePrompt"},))


def test_a_lone_flux_transformer_file_is_named_and_refused(image_ctx, tmp_path):
    import torch
    from safetensors.torch import save_file

    from studio.image import loading
    from studio.models.loaders import LoadRequest

    path = tmp_path / "flux1-schnell.safetensors"
    save_file({"double_blocks.0.img_attn.qkv.weight": torch.zeros(2, 2)}, str(path))
    assert loading.family_of_single_file(path).name == "flux"
    with pytest.raises(BadInput, match="FLUX.1 transformer on its own"):
        loading.load_image_pipeline(LoadRequest(str(path), None, None, None, torch.float32))


@pytest.mark.parametrize("budget,plan", [(24, "model offload"), (16, "block offload"), (8, "block offload")])
def test_gpus_under_40_gb_run_it_by_a_memory_plan(budget, plan, capsys):
    import json

    from studio import memory_plan

    memory_plan.main(["--checkpoint", FLUX_ID, "--budget-gb", str(budget), "--width", "1024", "--height", "1024"])
    answer = json.loads(capsys.readouterr().out)
    assert answer["family"] == "flux" and answer["fits"] and answer["plan"] == plan
    assert answer["peaks_gb"]["whole"] > 30  # 12B transformer + T5-XXL: no 24 GB card holds it whole


def test_the_train_tab_neither_offers_nor_takes_it(tmp_path):
    from studio.settings import load_settings
    from studio.train import service

    settings = load_settings(["--profile", "tiny", "--outputs", str(tmp_path)], env={})
    offered = service.base_models(settings, "image_lora")
    assert FLUX_ID not in offered and "Tongyi-MAI/Z-Image-Turbo" not in offered
    with pytest.raises(BadInput, match="FLUX.1 schnell one"):
        service.resolve_model(settings, "image_lora", FLUX_ID)
