"""Image generation on the tiny twins (offline): determinism, seeds, sizes, styles, presets,
LoRAs, the shared cache, img2img, Cancel and bad input. Pixels are compared exactly."""

from __future__ import annotations

import shutil
import threading

import numpy as np
import pytest

from studio.errors import BadInput, ModelUnavailable
from studio.image import styles
from studio.image.generate import generate_images
from studio.image.request import ImageRequest
from studio.progress import Cancelled, Task
from tests.image_helpers import image_ctx, pixels  # noqa: F401  (fixture)

SMALL = dict(width=256, height=256, steps=2)


def run(ctx, folder=None, **fields):
    return generate_images(ctx, ImageRequest(**{**SMALL, **fields}), folder)


@pytest.mark.parametrize(
    "checkpoint",
    ["stabilityai/stable-diffusion-xl-base-1.0", "Tongyi-MAI/Z-Image-Turbo", "stable-diffusion-v1-5/stable-diffusion-v1-5"],
)
def test_same_seed_same_pixels_and_image_i_uses_seed_plus_i(image_ctx, checkpoint):
    first = run(image_ctx, prompt="一隻在雪地裡的紅狐狸", seed=41, image_number=2, checkpoint=checkpoint)
    again = run(image_ctx, prompt="一隻在雪地裡的紅狐狸", seed=42, checkpoint=checkpoint)
    assert [r.seed for r in first] == [41, 42]
    assert np.array_equal(pixels(first[1]), pixels(again[0]))  # image 2 of seed 41 == image 1 of seed 42
    assert not np.array_equal(pixels(first[0]), pixels(first[1]))
    assert first[0].image.size == (256, 256)


def test_random_seed_is_reported_and_reproduces(image_ctx):
    drawn = run(image_ctx, prompt="a lighthouse", seed=-1)[0]
    assert drawn.seed >= 0
    assert np.array_equal(pixels(drawn), pixels(run(image_ctx, prompt="a lighthouse", seed=drawn.seed)[0]))


@pytest.mark.parametrize("aspect,size", [("1152×896", (1152, 896)), ("640x1536", (640, 1536))])
def test_aspect_ratio_gives_the_exact_size(image_ctx, aspect, size):
    result = generate_images(image_ctx, ImageRequest(prompt="x", aspect_ratio=aspect, steps=1, seed=1), None)[0]
    assert result.image.size == size


def test_z_image_turbo_runs_eight_transformer_passes_by_default(image_ctx):
    result = run(image_ctx, prompt="台北的夜市", checkpoint="Tongyi-MAI/Z-Image-Turbo", steps=None, seed=3)[0]
    assert result.steps_run == 8
    assert result.scheduler_used == "FlowMatchEulerDiscreteScheduler"
    assert result.prompt == "台北的夜市"  # Chinese goes to the Qwen encoder as it is


def test_styles_send_the_template_applied_in_order(image_ctx):
    prompt = "a fox"
    styled = run(image_ctx, prompt=prompt, styles=("Cinematic", "Analog film"), seed=5)[0]
    by_hand = styles.all_styles()["Analog film"].wrap(styles.all_styles()["Cinematic"].wrap(prompt))
    assert styled.prompt == by_hand
    # What reached the pipeline is that text: the same pixels as sending it by hand, without styles.
    negative = styled.negative_prompt
    manual = run(image_ctx, prompt=by_hand, negative_prompt=negative, seed=5)[0]
    assert np.array_equal(pixels(styled), pixels(manual))


def test_no_style_sends_the_prompt_unchanged(image_ctx):
    result = run(image_ctx, prompt="a fox, {not a slot}", seed=5)[0]
    assert result.prompt == "a fox, {not a slot}" and result.negative_prompt == ""


@pytest.mark.parametrize(
    "performance,steps,scheduler",
    [("Quality", 60, "DPMSolverMultistepScheduler"), ("Speed", 30, "DPMSolverMultistepScheduler"),
     ("Extreme Speed", 8, "LCMScheduler"), ("Lightning", 4, "EulerDiscreteScheduler")],
)
def test_presets_set_the_steps_and_scheduler_the_pipeline_actually_ran(image_ctx, performance, steps, scheduler):
    result = generate_images(
        image_ctx, ImageRequest(prompt="x", performance=performance, width=256, height=256, seed=1), None
    )[0]
    # Counted by the pipeline's step callback, and the scheduler seen inside it.
    assert (result.steps_run, result.scheduler_used) == (steps, scheduler)


def test_advanced_overrides_the_preset(image_ctx):
    result = run(image_ctx, prompt="x", performance="Quality", steps=3, scheduler="Euler a", seed=1)[0]
    assert (result.steps_run, result.scheduler_used) == (3, "EulerAncestralDiscreteScheduler")


def test_a_lora_changes_the_pixels_weight_zero_does_not_and_nothing_stays_fused(image_ctx):
    plain = pixels(run(image_ctx, prompt="a fox", seed=9)[0])
    with_lora = pixels(run(image_ctx, prompt="a fox", seed=9, loras=(("people/style.safetensors", 1.0),))[0])
    assert not np.array_equal(plain, with_lora)
    off = pixels(run(image_ctx, prompt="a fox", seed=9, loras=(("people/style.safetensors", 0.0),))[0])
    assert np.array_equal(plain, off)
    after = pixels(run(image_ctx, prompt="a fox", seed=9)[0])
    assert np.array_equal(plain, after)


def test_two_users_with_different_loras_at_once_get_their_own_pixels(image_ctx):
    alone_plain = pixels(run(image_ctx, prompt="a fox", seed=11)[0])
    alone_lora = pixels(run(image_ctx, prompt="a fox", seed=11, loras=(("people/style.safetensors", 0.8),))[0])
    got: dict[str, np.ndarray] = {}

    def user(name, loras):
        got[name] = pixels(run(image_ctx, prompt="a fox", seed=11, loras=loras)[0])

    threads = [threading.Thread(target=user, args=("plain", ())),
               threading.Thread(target=user, args=("lora", (("people/style.safetensors", 0.8),)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert np.array_equal(got["plain"], alone_plain)
    assert np.array_equal(got["lora"], alone_lora)


def test_txt2img_then_img2img_loads_the_checkpoint_once(image_ctx):
    from studio.image import checkpoints

    spec = checkpoints.spec(image_ctx, "")
    image_ctx.cache.free(spec)
    misses = image_ctx.cache.stats()["misses"]
    first = run(image_ctx, prompt="a fox", seed=2)[0]
    varied = generate_images(
        image_ctx, ImageRequest(prompt="a fox", task="img2img", init_image=first.image, strength=0.5, steps=10, seed=2),
        None,
    )[0]
    assert image_ctx.cache.stats()["misses"] == misses + 1
    assert varied.image.size == first.image.size
    assert varied.steps_run == 5  # denoise 0.5 of 10 steps runs the last 5


def test_cancel_stops_within_a_step_and_the_next_run_is_normal(image_ctx, tmp_path):
    seen = []

    def work(task):
        return generate_images(image_ctx, ImageRequest(prompt="x", steps=30, seed=1, **{k: v for k, v in SMALL.items() if k != "steps"}),
                               tmp_path, task)

    task = Task(work)
    with pytest.raises(Cancelled):
        for event in task.events():
            seen.append(event)
            if len(seen) == 2:
                task.cancel()
    task.join(30)
    assert not task.running
    assert task.steps_reported <= 4  # the step in flight when Cancel came, and no more
    assert list(tmp_path.rglob("*.png")) == []  # nothing half-done was saved
    assert run(image_ctx, prompt="x", seed=1)[0].steps_run == 2


def test_empty_prompt_is_allowed_and_said(image_ctx):
    result = run(image_ctx, prompt="", seed=1)[0]
    assert any("No prompt" in note for note in result.notes)


def test_a_long_prompt_reports_the_clip_cut(image_ctx):
    result = run(image_ctx, prompt="a red fox in the snow " * 450, seed=1)[0]  # about 10,000 characters
    assert any("77" in note and "Never seen" in note for note in result.notes)


def test_negative_prompt_without_guidance_is_said(image_ctx):
    result = run(image_ctx, prompt="x", negative_prompt="blurry", checkpoint="Tongyi-MAI/Z-Image-Turbo", seed=1)[0]
    assert any("no effect" in note for note in result.notes)


@pytest.mark.parametrize(
    "fields,message",
    [
        (dict(prompt="x" * 200_001), "limit"),
        (dict(image_number=0), "between 1 and 8"),
        (dict(image_number=100), "between 1 and 8"),
        (dict(width=20000, height=256), "between 256 and 2048"),
        (dict(width=300, height=256), "multiples of 8"),
        (dict(width=256, height=None), "both width and height"),
        (dict(aspect_ratio="3:2", width=None, height=None), "not offered"),
        (dict(styles=("Nope",)), "Unknown style"),
        (dict(performance="Turbo"), "unknown"),
        (dict(scheduler="Heun++"), "not available"),
        (dict(checkpoint="../../etc/passwd.safetensors"), "not a checkpoint name"),
        (dict(loras=(("../secret.safetensors", 1.0),)), "not a LoRA name"),
        (dict(loras=(("missing.safetensors", 1.0),)), "No LoRA called"),
        (dict(loras=(("people/style.safetensors", 99),)), "between"),
        (dict(seed="abc"), "number"),
    ],
)
def test_bad_input_is_a_clear_sentence(image_ctx, fields, message):
    with pytest.raises(BadInput, match=message):
        run(image_ctx, **{"prompt": "x", **fields})


def test_z_image_needs_sides_in_multiples_of_16(image_ctx):
    with pytest.raises(BadInput, match="multiples of 16"):
        run(image_ctx, prompt="x", checkpoint="Tongyi-MAI/Z-Image-Turbo", width=264, height=256)


def test_unknown_checkpoint_in_the_tiny_profile_names_the_fix(image_ctx):
    with pytest.raises(ModelUnavailable, match="tiny profile has no offline twin"):
        run(image_ctx, prompt="x", checkpoint="someone/unknown-model")


def test_a_corrupt_safetensors_checkpoint_is_refused_clearly(image_ctx):
    from studio.image import checkpoints

    broken = checkpoints.checkpoints_dir(image_ctx.settings) / "broken.safetensors"
    broken.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    try:
        with pytest.raises(BadInput, match="cannot be read as a .safetensors checkpoint"):
            run(image_ctx, prompt="x", checkpoint="broken.safetensors")
    finally:
        broken.unlink()


def test_the_models_tab_lists_each_component_of_a_checkpoint_with_its_memory(image_ctx):
    from studio import cache_report as report

    run(image_ctx, prompt="x", seed=1)
    entry = next(m for m in report.status(image_ctx)["models"] if m["kind"] == "image_pipeline")
    parts = entry["parts_mb"]
    assert {"unet", "vae", "text_encoder", "text_encoder_2"} <= set(parts)
    assert abs(sum(parts.values()) - entry["size_mb"]) < 0.05  # the parts add up to the entry


def test_a_lora_trained_by_one_user_is_listed_and_usable_by_that_user_only(image_ctx, tmp_path):
    from studio.image import checkpoints

    folder = checkpoints.loras_dir(image_ctx.settings)
    owner, other = "browser-" + "a" * 32, "browser-" + "b" * 32
    private = folder / checkpoints.PRIVATE_LORAS / owner
    private.mkdir(parents=True, exist_ok=True)
    shutil.copy(folder / "people" / "style.safetensors", private / "mine.safetensors")
    name = f"{checkpoints.PRIVATE_LORAS}/{owner}/mine.safetensors"
    assert name not in checkpoints.offered_loras(image_ctx.settings)
    assert name not in checkpoints.offered_loras(image_ctx.settings, other)
    assert name in checkpoints.offered_loras(image_ctx.settings, owner)
    request = dict(prompt="a fox", seed=9, loras=((name, 1.0),))
    with pytest.raises(BadInput, match="among yours"):
        run(image_ctx, tmp_path / other, **request)
    assert run(image_ctx, tmp_path / owner, **request)[0].image.size == (256, 256)


@pytest.mark.parametrize("checkpoint", ["Tongyi-MAI/Z-Image-Turbo", "stabilityai/stable-diffusion-xl-base-1.0"])
def test_an_img2img_runs_progress_counts_the_steps_it_really_runs(image_ctx, checkpoint):
    """Z-Image's img2img rounds a denoise's steps up, SDXL's down: the progress total follows
    the family, so the bar ends at the last step run (it said 3 of 3 for Z-Image's 4)."""
    from PIL import Image

    start = Image.new("RGB", (256, 256), (120, 80, 40))
    request = ImageRequest(prompt="a fox", task="img2img", init_image=start, strength=0.382, steps=8, seed=3,
                           checkpoint=checkpoint)
    totals = []

    class Watch:
        def step(self, step, total, label="", preview=None):
            totals.append((step, total))

        def deliver(self, item):
            pass

    result = generate_images(image_ctx, request, None, Watch())[0]
    assert {total for _, total in totals} == {result.steps_run}
    assert totals[-1][0] == result.steps_run


# --- CLIP skip ----------------------------------------------------------------------------------

SD15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"
SDXL = "stabilityai/stable-diffusion-xl-base-1.0"


@pytest.mark.parametrize("checkpoint,kind,native", [(SDXL, "sdxl", 2), (SD15, "sd", 1)])
def test_clip_skip_reads_another_layer_and_unset_is_the_familys_own(image_ctx, checkpoint, kind, native):
    from studio.image import checkpoints as image_checkpoints, prompt_encoding

    with image_ctx.cache.use(image_checkpoints.spec(image_ctx, checkpoint)) as model:
        pipe = model.pipeline
        unset = prompt_encoding.embeddings(pipe, kind, "a red fox", "", None)["prompt_embeds"]
        own = prompt_encoding.embeddings(pipe, kind, "a red fox", "", native)["prompt_embeds"]
        deeper = prompt_encoding.embeddings(pipe, kind, "a red fox", "", native + 1)["prompt_embeds"]
        assert (unset == own).all() and not (unset == deeper).all()
        # The layer is the one A1111 means: hidden_states[-layer], through the final norm on SD 1.5.
        ids = pipe.tokenizer("a red fox", padding="max_length", max_length=77, return_tensors="pt").input_ids
        states = pipe.text_encoder(ids, output_hidden_states=True).hidden_states
        expected = states[-(native + 1)]
        if kind == "sd":
            expected = pipe.text_encoder.final_layer_norm(expected)
        width = expected.shape[-1]
        assert (deeper[..., :width] - expected).abs().max() < 1e-6
        if kind == "sdxl":  # diffusers' own clip_skip (the plain path) gives the same embeddings
            plain = pipe.encode_prompt("a red fox", device="cpu", num_images_per_prompt=1,
                                       do_classifier_free_guidance=False, clip_skip=1)[0]
            assert (plain - deeper).abs().max() == 0


@pytest.mark.parametrize("checkpoint,native", [(SDXL, 2), (SD15, 1)])
def test_clip_skip_in_a_generation(image_ctx, checkpoint, native):
    today = run(image_ctx, prompt="a red fox", seed=4, checkpoint=checkpoint)[0]
    own = run(image_ctx, prompt="a red fox", seed=4, checkpoint=checkpoint, clip_skip=native)[0]
    deeper = run(image_ctx, prompt="a red fox", seed=4, checkpoint=checkpoint, clip_skip=native + 1)[0]
    weighted = run(image_ctx, prompt="a (red:1.3) fox", seed=4, checkpoint=checkpoint, clip_skip=native + 1)[0]
    weighted_today = run(image_ctx, prompt="a (red:1.3) fox", seed=4, checkpoint=checkpoint)[0]
    assert np.array_equal(pixels(today), pixels(own))
    assert not np.array_equal(pixels(today), pixels(deeper))
    assert not np.array_equal(pixels(weighted), pixels(weighted_today))  # the compel path reads it too
    assert deeper.parameters["resolved"]["clip_skip"] == native + 1
    assert f"Clip skip: {native + 1}" in deeper.parameters["a1111"]


def test_clip_skip_past_the_encoders_layers_is_a_sentence_and_flux_says_why(image_ctx):
    with pytest.raises(BadInput, match="reaches past this checkpoint's text encoder"):
        run(image_ctx, prompt="x", seed=1, clip_skip=12)
    flux = run(image_ctx, prompt="x", seed=1, checkpoint="black-forest-labs/FLUX.1-schnell", clip_skip=2)[0]
    assert any("CLIP skip does not apply here" in note and "T5" in note for note in flux.notes)
