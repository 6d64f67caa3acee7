"""Image prompts on the tiny twins (offline): the PyraCanny and CPDS maps, weight and stop-at
as the model really receives them, several slots at once, the shared UNet clean afterwards,
the cache, the face crop, metadata and bad input. Pixels are compared exactly."""

from __future__ import annotations

import struct
import threading
import zlib

import numpy as np
import pytest
from PIL import Image

from studio.errors import BadInput
from studio.faces.samples import draw_faces
from studio.pictures import metadata
from studio.image.generate import generate_images
from studio.image.image_prompts import preprocess, preview
from studio.image.image_prompts.slots import DEFAULTS, check_slots
from studio.image.request import ImageRequest
from tests.image_helpers import image_ctx, pixels  # noqa: F401  (fixture)

SMALL = dict(prompt="a portrait", width=256, height=256, steps=3, seed=11)
FACE = draw_faces((256, 256), ((128, 128),), radius=55, seed=3)


def run(ctx, folder=None, prompts=(), **fields):
    return generate_images(ctx, ImageRequest(**{**SMALL, **fields}, image_prompts=tuple(prompts)), folder)[0]


def shapes(size=(240, 320)) -> np.ndarray:
    """A synthetic picture: a bright square and a coloured disc on a dark ground."""
    h, w = size
    rgb = np.full((h, w, 3), 30, np.uint8)
    rgb[40:140, 50:150] = (220, 220, 220)
    yy, xx = np.mgrid[:h, :w]
    rgb[(yy - 150) ** 2 + (xx - 230) ** 2 < 50**2] = (200, 60, 40)
    return rgb


# --- the maps --------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [preprocess.pyramid_canny, preprocess.cpds])
def test_maps_have_the_input_size_are_deterministic_and_flat_in_gives_flat_out(make):
    picture = shapes()
    first, again = make(picture), make(picture.copy())
    assert first.shape == (240, 320, 3) and first.dtype == np.uint8
    assert np.array_equal(first, again)
    assert (first[..., 0] == first[..., 1]).all() and (first[..., 0] == first[..., 2]).all()  # grey, repeated
    flat = make(np.full((200, 300, 3), 128, np.uint8))
    assert flat.shape == (200, 300, 3) and flat.max() == flat.min()


def test_pyracanny_marks_the_edges_of_the_shapes_and_nothing_inside_them():
    edges = preprocess.pyramid_canny(shapes())[..., 0]
    # Strongest on the border itself, fading over a few pixels (the coarse scales' share).
    assert (edges[37:41, 60:140].max(axis=0) == 255).all()  # the square's top side, all along
    assert (edges[60:130, 47:51].max(axis=1) == 255).all()  # and its left side
    assert edges[150, 176:184].max() == 255  # the disc's left rim
    assert edges[70:110, 80:120].max() == 0  # inside the square: flat
    assert edges[200:235, 10:40].max() == 0  # the flat ground far from any shape


def test_cpds_separates_colours_of_the_same_brightness():
    # Red and green of nearly equal luminance: plain grey conversion loses the border, CPDS keeps it.
    rgb = np.zeros((120, 240, 3), np.uint8)
    rgb[:, :120] = (200, 60, 60)
    rgb[:, 120:] = (60, 135, 60)
    grey = np.asarray(Image.fromarray(rgb).convert("L"), dtype=int)
    assert abs(grey[60, 30] - grey[60, 200]) <= 6
    structure = preprocess.cpds(rgb)[..., 0].astype(int)
    assert abs(structure[60, 30] - structure[60, 200]) > 100


def test_the_pyramid_finds_a_faint_wide_edge_that_single_scale_canny_misses():
    # A 40-pixel ramp of 200 levels: 5 levels a pixel, below canny's 64 at full size; steep at 0.2.
    width = 400
    ramp = np.clip((np.arange(width) - 180) / 40 * 200, 0, 200).astype(np.uint8) + 28
    picture = np.repeat(np.repeat(ramp[None, :, None], 300, axis=0), 3, axis=2)
    assert preprocess.channel_canny(picture).max() == 0  # single scale, same thresholds: nothing
    found = preprocess.pyramid_canny(picture)[..., 0]
    assert found[:, 175:225].max() == 255 and (found[150, 175:225] > 0).sum() >= 10
    assert found[:, :120].max() == 0 and found[:, 300:].max() == 0  # and only there


def test_generation_maps_are_fitted_to_the_output_size_without_distortion():
    picture = shapes((240, 320))
    fitted = preprocess.fit(picture, 256, 256)
    assert fitted.shape == (256, 256, 3)
    # Cover then centre-crop: the middle of the picture stays in the middle.
    assert np.array_equal(preprocess.fit(picture, 320, 240), picture)


def test_preview_shows_each_types_view(image_ctx, tmp_path):
    path = tmp_path / "shapes.png"
    Image.fromarray(shapes()).save(path)
    assert preview(image_ctx, str(path), "PyraCanny").size == (320, 240)
    assert preview(image_ctx, str(path), "cpds").size == (320, 240)
    assert preview(image_ctx, str(path), "ImagePrompt").size == (224, 224)
    crop = preview(image_ctx, FACE, "FaceSwap")
    assert crop.size == (224, 224)
    # The crop is the face: mostly skin, centred.
    centre = np.asarray(crop)[80:144, 80:144].reshape(-1, 3).mean(axis=0)
    assert centre[0] > 150 and centre[0] > centre[2] + 40


# --- weight and stop-at, as the model receives them ---------------------------------------


def test_weight_zero_on_any_slot_gives_the_same_pixels_as_no_image_prompt(image_ctx):
    plain = run(image_ctx)
    for kind in ("ImagePrompt", "PyraCanny", "CPDS", "FaceSwap"):
        zero = run(image_ctx, prompts=[{"image": FACE, "type": kind, "weight": 0}])
        assert np.array_equal(pixels(zero), pixels(plain)), kind
        assert "weight 0" in " ".join(zero.notes)
    steered = run(image_ctx, prompts=[{"image": FACE, "type": "PyraCanny", "weight": 1.0}])
    assert not np.array_equal(pixels(steered), pixels(plain))


def test_a_stop_at_below_one_step_is_left_out_with_a_note(image_ctx):
    """With 4 steps the first step ends at 0.25: a stop-at of 0.2 acts on no step. The slot is
    left out (its ControlNet never runs) and the note says why; 0.25 acts on the first step."""
    plain = run(image_ctx, steps=4)
    controlnet = _model(image_ctx, "controlnet_canny")
    calls = []
    hook = controlnet.register_forward_pre_hook(lambda module, args: calls.append(1))
    try:
        short = run(image_ctx, steps=4, prompts=[{"image": shapes(), "type": "PyraCanny", "stop_at": 0.2},
                                                 {"image": FACE, "type": "ImagePrompt", "stop_at": 0.1}])
        assert calls == []
        one_step = run(image_ctx, steps=4, prompts=[{"image": shapes(), "type": "PyraCanny", "stop_at": 0.25}])
        assert calls  # in this time (diffusers runs it on every step, at scale 0 after its stop)
    finally:
        hook.remove()
    assert np.array_equal(pixels(short), pixels(plain))
    notes = " ".join(short.notes)
    assert "Image prompt 1 (PyraCanny) has stop-at 0.2, less than one step of 4" in notes
    assert "Image prompt 2 (ImagePrompt) has stop-at 0.1, less than one step of 4" in notes
    assert "left out" in notes
    assert not np.array_equal(pixels(one_step), pixels(plain)) and "left out" not in " ".join(one_step.notes)


def _model(ctx, name):
    return ctx.cache.get(ctx.spec(name))


def test_stop_at_gives_the_weight_before_the_stop_fraction_and_zero_after(image_ctx):
    """Hooks on the real modules record, per step, the ControlNet's conditioning scale and the
    IP-Adapter's scale inside the UNet's attention processors."""
    control_scales, ip_scales = [], []
    controlnet = _model(image_ctx, "controlnet_canny")
    unet = image_ctx.cache.get(image_ctx.spec("image")).pipeline.unet

    def on_control(module, args, kwargs):
        control_scales.append(float(kwargs["conditioning_scale"]))

    def on_unet(module, args, kwargs):
        scales = {tuple(p.scale) for p in module.attn_processors.values() if hasattr(p, "scale")}
        assert len(scales) == 1  # every cross-attention layer agrees
        ip_scales.append(scales.pop())

    hooks = [controlnet.register_forward_pre_hook(on_control, with_kwargs=True),
             unet.register_forward_pre_hook(on_unet, with_kwargs=True)]
    try:
        run(image_ctx, steps=30, prompts=[
            {"image": FACE, "type": "PyraCanny", "weight": 0.8, "stop_at": 0.5},
            {"image": FACE, "type": "ImagePrompt", "weight": 0.6, "stop_at": 0.5},
            {"image": FACE, "type": "FaceSwap", "weight": 0.75, "stop_at": 0.9},
        ])
    finally:
        for hook in hooks:
            hook.remove()
    assert control_scales == [0.8] * 15 + [0.0] * 15  # steps 0-14, then 15-29
    # Adapters in canonical order (ImagePrompt's, then the face one's): each stops on its own.
    assert ip_scales == [(0.6, 0.75)] * 15 + [(0.0, 0.75)] * 12 + [(0.0, 0.0)] * 3
    # The next call starts from the weights again, not from the zeros the last step left.
    ip_scales.clear()
    hook = unet.register_forward_pre_hook(on_unet, with_kwargs=True)
    try:
        run(image_ctx, steps=4, prompts=[{"image": FACE, "type": "ImagePrompt", "weight": 0.6, "stop_at": 0.5}])
    finally:
        hook.remove()
    assert ip_scales == [(0.6,), (0.6,), (0.0,), (0.0,)]


def test_two_slots_face_and_edges_run_in_one_generation_and_both_change_the_output(image_ctx, tmp_path):
    plain = run(image_ctx)
    face = run(image_ctx, prompts=[{"image": FACE, "type": "FaceSwap"}])
    edges = run(image_ctx, prompts=[{"image": shapes(), "type": "PyraCanny"}])
    both = run(image_ctx, tmp_path, prompts=[{"image": FACE, "type": "FaceSwap"}, {"image": shapes(), "type": "PyraCanny"}])
    results = [pixels(r) for r in (plain, face, edges, both)]
    for i in range(4):
        for j in range(i + 1, 4):
            assert not np.array_equal(results[i], results[j]), (i, j)
    # The PNG records each slot: type, weight, stop-at and a hash of its picture.
    saved = metadata.read_parameters(both.path)
    slots = saved["studio"]["request"]["image_prompts"]
    assert [(s["type"], s["weight"], s["stop_at"]) for s in slots] == [("FaceSwap", 0.75, 0.9), ("PyraCanny", 1.0, 0.5)]
    assert slots[0]["image_sha256"] != slots[1]["image_sha256"] and len(slots[0]["image_sha256"]) == 16
    assert "Image prompts: " in saved["parameters"] and "FaceSwap 0.75/0.9" in saved["parameters"]
    # Same slots, same seed: the same pixels.
    again = run(image_ctx, prompts=[{"image": FACE, "type": "FaceSwap"}, {"image": shapes(), "type": "PyraCanny"}])
    assert np.array_equal(pixels(again), results[3])


def test_two_controlnets_at_once_through_multi_controlnet(image_ctx):
    one = run(image_ctx, prompts=[{"image": shapes(), "type": "PyraCanny"}])
    two = run(image_ctx, prompts=[{"image": shapes(), "type": "PyraCanny"}, {"image": FACE, "type": "CPDS"}])
    assert not np.array_equal(pixels(one), pixels(two))


@pytest.mark.parametrize("checkpoint", ["stabilityai/stable-diffusion-xl-base-1.0",
                                        "stable-diffusion-v1-5/stable-diffusion-v1-5"])
def test_all_four_at_once_then_the_shared_unet_comes_back_clean(image_ctx, checkpoint):
    plain = run(image_ctx, checkpoint=checkpoint)
    steered = run(image_ctx, checkpoint=checkpoint, prompts=[
        {"image": FACE, "type": kind} for kind in ("ImagePrompt", "PyraCanny", "CPDS", "FaceSwap")])
    assert not np.array_equal(pixels(steered), pixels(plain))
    after = run(image_ctx, checkpoint=checkpoint)
    assert np.array_equal(pixels(after), pixels(plain))
    unet = image_ctx.cache.get(image_ctx.spec("image", checkpoint)).pipeline.unet
    assert unet.encoder_hid_proj is None
    assert not any(hasattr(p, "scale") for p in unet.attn_processors.values())


def _ip_processors(unet) -> list:
    from diffusers.models.attention_processor import IPAdapterAttnProcessor, IPAdapterAttnProcessor2_0

    kinds = (IPAdapterAttnProcessor, IPAdapterAttnProcessor2_0)
    return [p for p in unet.attn_processors.values() if isinstance(p, kinds)]


def test_an_ip_adapter_load_that_fails_midway_leaves_the_shared_unet_plain(image_ctx, monkeypatch):
    """diffusers installs the IP attention processors, then builds the image projection and only
    then sets ``encoder_hid_dim_type``: a failure in between must not leave them for the next user."""
    plain = run(image_ctx)
    base = image_ctx.cache.get(image_ctx.spec("image")).pipeline
    unet = base.unet

    def broken(*args, **kwargs):
        raise RuntimeError("image projection: broken on purpose")

    monkeypatch.setattr(type(unet), "_convert_ip_adapter_image_proj_to_diffusers", broken)
    with pytest.raises(RuntimeError, match="broken on purpose"):
        run(image_ctx, prompts=[{"image": FACE, "type": "ImagePrompt"}])
    assert not _ip_processors(unet)  # the failed switch cleaned up before it re-raised
    after = run(image_ctx)
    assert np.array_equal(pixels(after), pixels(plain))

    # And unload() alone finds such a half-loaded adapter (the flag is not set, the processors are).
    from studio.image.image_prompts import apply

    weights = image_ctx.cache.get(image_ctx.spec("ip_adapter"))
    with pytest.raises(RuntimeError, match="broken on purpose"):
        unet._load_ip_adapter_weights([weights.state_dicts()])
    assert _ip_processors(unet) and unet.config.encoder_hid_dim_type != "ip_image_proj"
    apply.unload(base)
    assert not _ip_processors(unet)
    monkeypatch.undo()
    assert np.array_equal(pixels(run(image_ctx)), pixels(plain))


def test_users_at_once_never_see_each_others_adapters(image_ctx):
    """Three students on one checkpoint at once: no adapters; an ImagePrompt; a FaceSwap with a
    LoRA. Each gets exactly the pixels it gets alone."""
    lora = (("people/style.safetensors", 0.8),)
    users = {
        "plain": dict(prompts=[]),
        "image prompt": dict(prompts=[{"image": FACE, "type": "ImagePrompt", "weight": 1.5}]),
        "face and lora": dict(prompts=[{"image": FACE, "type": "FaceSwap"}], loras=lora),
    }
    alone = {name: pixels(run(image_ctx, steps=6, **fields)) for name, fields in users.items()}
    assert len({a.tobytes() for a in alone.values()}) == 3
    found: dict[str, list] = {name: [] for name in users}
    errors: list[BaseException] = []

    def user(name):
        try:
            for _ in range(3):
                found[name].append(pixels(run(image_ctx, steps=6, **users[name])))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=user, args=(name,)) for name in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not errors
    for name in users:
        assert len(found[name]) == 3 and all(np.array_equal(f, alone[name]) for f in found[name]), name


def test_adding_then_removing_a_slot_loads_the_base_checkpoint_once(image_ctx):
    image_spec = str(image_ctx.spec("image"))
    run(image_ctx)
    loads_before = [e for e in image_ctx.cache.events if e == ("load", image_spec)]
    hits_before = next(m["hits"] for m in image_ctx.cache.stats()["models"] if m["name"] == "image")
    run(image_ctx, prompts=[{"image": FACE, "type": "PyraCanny"}])
    run(image_ctx, prompts=[{"image": FACE, "type": "PyraCanny"}, {"image": FACE, "type": "ImagePrompt"}])
    run(image_ctx)
    stats = image_ctx.cache.stats()
    assert [e for e in image_ctx.cache.events if e == ("load", image_spec)] == loads_before
    assert len(loads_before) == 1
    assert next(m["hits"] for m in stats["models"] if m["name"] == "image") == hits_before + 3
    names = {m["name"] for m in stats["models"]}
    assert {"controlnet_canny", "ip_adapter", "image_encoder"} <= names  # shared entries of their own


# --- FaceSwap without a face, and bad input ------------------------------------------------


def test_faceswap_without_a_face_says_so_and_draws_nothing(image_ctx, tmp_path):
    folder = tmp_path / "out"
    steps = []
    no_face = np.full((256, 256, 3), 40, np.uint8)
    with pytest.raises(BadInput, match="No face was found in the FaceSwap picture of image prompt 2"):
        generate_images(image_ctx, ImageRequest(**SMALL, image_prompts=(
            {"image": FACE, "type": "PyraCanny"}, {"image": no_face, "type": "FaceSwap"})), folder,
            task=_Recorder(steps))
    assert steps == [] and not folder.exists()
    with pytest.raises(BadInput, match="No face was found"):
        preview(image_ctx, no_face, "FaceSwap")


class _Recorder:
    def __init__(self, steps):
        self.steps = steps

    def step(self, *args):
        self.steps.append(args)

    def deliver(self, result):
        self.steps.append(result)


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    "slot,message",
    [
        (dict(type="Sketch"), "Unknown image prompt type 'Sketch'"),
        (dict(type="PyraCanny", weight=2.5), "weight must be between 0 and 2, not 2.5"),
        (dict(type="CPDS", stop_at=1.5), "stop at must be between 0 and 1, not 1.5"),
        (dict(type="FaceSwap", weight="strong"), "weight must be a number"),
        (dict(type="ImagePrompt", image=None), "has no picture"),
    ],
)
def test_bad_slots_are_refused_with_a_sentence(slot, message):
    with pytest.raises(BadInput, match=message):
        check_slots([{"image": FACE, **slot}])


def test_a_non_image_and_a_20000_pixel_upload_are_refused(image_ctx, tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    with pytest.raises(BadInput, match="not a picture this app can read"):
        run(image_ctx, prompts=[{"image": str(text), "type": "PyraCanny"}])
    huge = tmp_path / "huge.png"
    huge.write_bytes(_png_header(20000, 20000))  # refused from its header, before any pixel is decoded
    with pytest.raises(BadInput, match="far too large; the limit here is 40.0 megapixels"):
        run(image_ctx, prompts=[{"image": str(huge), "type": "ImagePrompt"}])
    with pytest.raises(BadInput, match="At most 4 image prompts"):
        check_slots([{"image": FACE, "type": "CPDS"}] * 5)


ZIMAGE = "Tongyi-MAI/Z-Image-Turbo"


def test_z_image_says_which_types_it_lacks_and_takes_one_structure_map(image_ctx):
    with pytest.raises(BadInput, match="Z-Image Turbo has no ImagePrompt image prompt.*no IP-Adapter for Z-Image"):
        run(image_ctx, checkpoint=ZIMAGE, prompts=[{"image": FACE, "type": "ImagePrompt"}])
    with pytest.raises(BadInput, match="one PyraCanny or CPDS picture at a time"):
        run(image_ctx, checkpoint=ZIMAGE, prompts=[{"image": FACE, "type": "PyraCanny"}, {"image": FACE, "type": "CPDS"}])


def test_z_image_union_controlnet_acts_until_its_stop_at_and_leaves_the_shared_models_clean(image_ctx):
    """Z-Image's ControlNet pipeline has no control_guidance_end: the stop-at is the request's own.
    A hook on the shared transformer sees the ControlNet's residuals: weighted, then zero."""
    plain = run(image_ctx, checkpoint=ZIMAGE, steps=None)
    transformer = image_ctx.cache.get(image_ctx.spec("image", ZIMAGE)).pipeline.transformer
    acting: list[bool] = []

    def on_transformer(module, args, kwargs):
        samples = kwargs.get("controlnet_block_samples") or {}
        acting.append(any(bool(v.abs().max() > 0) for v in samples.values()))

    hook = transformer.register_forward_pre_hook(on_transformer, with_kwargs=True)
    try:
        steered = run(image_ctx, checkpoint=ZIMAGE, steps=None,
                      prompts=[{"image": shapes(), "type": "PyraCanny", "weight": 0.8, "stop_at": 0.5}])
    finally:
        hook.remove()
    assert acting == [True] * 4 + [False] * 4  # 8 steps: 0-3, then 4-7
    assert not np.array_equal(pixels(steered), pixels(plain))
    zero = run(image_ctx, checkpoint=ZIMAGE, steps=None, prompts=[{"image": shapes(), "type": "CPDS", "weight": 0}])
    assert np.array_equal(pixels(zero), pixels(plain))
    assert np.array_equal(pixels(run(image_ctx, checkpoint=ZIMAGE, steps=None)), pixels(plain))
    # The cached ControlNet holds none of the transformer's modules the pipeline attaches.
    controlnet = image_ctx.cache.get(image_ctx.spec("controlnet_union_zimage"))
    assert {name for name, _ in controlnet.named_children()} == {"control_layers", "control_all_x_embedder",
                                                                  "control_noise_refiner"}


def test_defaults_are_fooocus_defaults():
    slots = check_slots([{"image": FACE, "type": t} for t in ("ImagePrompt", "PyraCanny", "CPDS", "FaceSwap")])
    assert [(s.stop_at, s.weight) for s in slots] == [(0.5, 0.6), (0.5, 1.0), (0.5, 1.0), (0.9, 0.75)]
    assert DEFAULTS["FaceSwap"] == (0.9, 0.75)
