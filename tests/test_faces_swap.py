"""The face swap pipeline on the tiny twins (offline): face selection, messages for photos
without faces, odd image formats, wrong ONNX files, and the shared model cache."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from studio.errors import BadInput
from studio.faces import images, pipeline
from studio.faces.pipeline import SwapRequest
from studio.faces.samples import draw_faces

CENTRES = (110, 320, 530)  # draw_faces' default three faces, numbered left to right


def _source():
    return draw_faces((640, 640), ((320, 320),), seed=1)


def _changed_columns(before: Image.Image, after: Image.Image) -> np.ndarray:
    a = np.asarray(before.convert("RGB")).astype(int)
    b = np.asarray(after.convert("RGB")).astype(int)
    return np.nonzero((a != b).any(-1).any(0))[0]


def test_replacing_face_2_of_3_changes_only_face_2(studio_ctx, tmp_path):
    target = draw_faces(seed=2)
    result = pipeline.swap_faces(studio_ctx, SwapRequest([_source()], target, target_faces="2"), tmp_path)
    assert result.replaced == [2] and len(result.target_faces) == 3
    columns = _changed_columns(target, result.image)
    assert columns.size and 240 <= columns.min() and columns.max() <= 400
    assert Image.open(result.path).size == target.size


def test_all_and_several_faces(studio_ctx):
    target = draw_faces(seed=3)
    everything = pipeline.swap_faces(studio_ctx, SwapRequest([_source()], target, target_faces="all"))
    assert everything.replaced == [1, 2, 3]
    columns = _changed_columns(target, everything.image)
    for centre in CENTRES:
        assert ((columns > centre - 40) & (columns < centre + 40)).any()
    two = pipeline.swap_faces(studio_ctx, SwapRequest([_source()], target, target_faces="1, 3"))
    assert two.replaced == [1, 3]
    columns = _changed_columns(target, two.image)
    assert not ((columns > 240) & (columns < 400)).any()


def test_zero_blend_keeps_the_target(studio_ctx):
    target = draw_faces(seed=4)
    result = pipeline.swap_faces(studio_ctx, SwapRequest([_source()], target, blend=0.0))
    assert np.array_equal(np.asarray(result.image), np.asarray(target))


def test_most_similar_to_a_reference_picks_that_face(studio_ctx):
    # The same drawing as face 3 of the target, alone: the recogniser finds it most like face 3.
    target = draw_faces(seed=5, centers=((110, 160), (320, 160), (530, 160)))
    reference = Image.new("RGB", (640, 320), (40, 40, 40))
    reference.paste(target.crop((430, 0, 640, 320)), (430, 0))
    result = pipeline.swap_faces(studio_ctx, SwapRequest([_source()], target, target_faces="similar",
                                                         reference_image=reference))
    assert result.replaced == [3]
    with pytest.raises(BadInput, match="reference photo"):
        pipeline.swap_faces(studio_ctx, SwapRequest([_source()], target, target_faces="similar"))


def test_several_source_photos_are_averaged(studio_ctx):
    target = draw_faces(seed=6)
    one = pipeline.swap_faces(studio_ctx, SwapRequest([_source()], target, target_faces="1"))
    other = draw_faces((640, 640), ((300, 300),), seed=9, skin=(240, 160, 120))
    both = pipeline.swap_faces(studio_ctx, SwapRequest([_source(), other], target, target_faces="1"))
    assert not np.array_equal(np.asarray(one.image), np.asarray(both.image))


@pytest.mark.parametrize("which,message", [("4", "has 3 faces"), ("two", "numbers like"), ("0", "no face 0")])
def test_bad_face_choices_are_sentences(studio_ctx, which, message):
    with pytest.raises(BadInput, match=message):
        pipeline.swap_faces(studio_ctx, SwapRequest([_source()], draw_faces(), target_faces=which))


def test_no_face_in_source_or_target_is_a_clear_message_and_nothing_is_saved(studio_ctx, tmp_path):
    empty = Image.new("RGB", (300, 300), (30, 30, 90))
    with pytest.raises(BadInput, match="No face was found in source photo 1"):
        pipeline.swap_faces(studio_ctx, SwapRequest([empty], draw_faces()), tmp_path)
    with pytest.raises(BadInput, match="No face was found in the target photo"):
        pipeline.swap_faces(studio_ctx, SwapRequest([_source()], empty), tmp_path)
    assert not list(tmp_path.rglob("*.png"))


def test_only_the_result_is_saved_never_the_source(studio_ctx, tmp_path):
    result = pipeline.swap_faces(studio_ctx, SwapRequest([_source()], draw_faces(), target_faces="1"), tmp_path)
    saved = list(tmp_path.rglob("*"))
    assert [p for p in saved if p.is_file()] == [pipeline.Path(result.path)]
    info = Image.open(result.path).info
    assert "embedding" not in info["studio"] and "source_images" not in info["studio"]


def test_restoration_changes_the_swapped_face_only(studio_ctx):
    target = draw_faces(seed=7)
    plain = pipeline.swap_faces(studio_ctx, SwapRequest([_source()], target, target_faces="2"))
    restored = pipeline.swap_faces(studio_ctx, SwapRequest([_source()], target, target_faces="2",
                                                           restore_strength=1.0))
    assert "face_restorer" in restored.models and "face_restorer" not in plain.models
    columns = _changed_columns(plain.image, restored.image)
    assert columns.size and 200 <= columns.min() and columns.max() <= 440


# --- odd and bad pictures -----------------------------------------------------------------


def test_a_non_image_is_refused(studio_ctx, tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    with pytest.raises(BadInput, match="not a picture"):
        pipeline.swap_faces(studio_ctx, SwapRequest([_source()], str(text)))


def test_a_huge_image_is_refused_with_the_limit(studio_ctx, tmp_path):
    huge = tmp_path / "huge.png"
    Image.new("L", (8000, 6000)).save(huge)
    with pytest.raises(BadInput, match=r"8000×6000 pixels \(48.0 megapixels\); the limit here is 40.0 megapixels"):
        pipeline.find_faces(studio_ctx, str(huge))


def test_grayscale_and_16_bit_pictures_are_read_as_8_bit_rgb(studio_ctx, tmp_path):
    gray = np.asarray(draw_faces().convert("L"))
    path16 = tmp_path / "deep.png"
    Image.fromarray((gray.astype(np.uint16) * 257)).save(path16)
    assert Image.open(path16).mode.startswith("I")
    picture = images.open_picture(str(path16))
    assert picture.rgb.dtype == np.uint8 and picture.rgb.shape == (320, 640, 3)
    assert np.abs(picture.rgb[..., 0].astype(int) - gray).max() <= 1
    path8 = tmp_path / "gray.png"
    Image.fromarray(gray).save(path8)
    assert np.array_equal(images.open_picture(str(path8)).rgb[..., 1], gray)
    _, faces = pipeline.find_faces(studio_ctx, str(path16), score_threshold=0.05)
    assert isinstance(faces, list)  # runs; a gray face has no skin colour for the tiny detector


def test_rgba_keeps_its_transparency(studio_ctx):
    target = draw_faces(seed=8).convert("RGBA")
    alpha = np.full((320, 640), 255, np.uint8)
    alpha[:, :20] = 0
    target.putalpha(Image.fromarray(alpha))
    result = pipeline.swap_faces(studio_ctx, SwapRequest([_source()], target, target_faces="2"))
    assert result.image.mode == "RGBA"
    assert np.array_equal(np.asarray(result.image)[..., 3], alpha)
    assert result.replaced == [2]


# --- models -------------------------------------------------------------------------------


def test_an_onnx_file_with_the_wrong_inputs_is_refused_naming_what_was_expected(tiny_settings, studio_ctx, tmp_path):
    from studio.context import StudioContext
    from studio.settings import load_settings

    faces_dir = tmp_path / "faces"
    faces_dir.mkdir()
    recogniser = studio_ctx.spec(pipeline.RECOGNISER)
    with studio_ctx.cache.use(recogniser) as model:
        shutil.copy(model.path, faces_dir / "not_a_swapper.onnx")
    settings = load_settings(["--profile", "tiny", "--cache-dir", str(tiny_settings.cache_dir), "--outputs",
                              str(tmp_path / "out"), "--faces-dir", str(faces_dir)], env={})
    ctx = StudioContext(settings)
    assert pipeline.local_models(settings) == ["not_a_swapper.onnx"]
    with pytest.raises(BadInput, match=r"expects target 1×3×128×128, source 1×512, but this file takes input\.1"):
        pipeline.swap_faces(ctx, SwapRequest([_source()], draw_faces(), swapper="not_a_swapper.onnx"))
    with pytest.raises(BadInput, match="No face model called"):
        pipeline.swap_faces(ctx, SwapRequest([_source()], draw_faces(), swapper="missing.onnx"))
    broken = faces_dir / "broken.onnx"
    broken.write_bytes(b"\x00not onnx")
    with pytest.raises(BadInput, match="not a usable ONNX model"):
        pipeline.swap_faces(ctx, SwapRequest([_source()], draw_faces(), detector="broken.onnx"))


def test_face_models_are_shared_cache_entries(studio_ctx):
    pipeline.find_faces(studio_ctx, draw_faces())
    misses = studio_ctx.cache.misses
    pipeline.swap_faces(studio_ctx, SwapRequest([_source()], draw_faces(), target_faces="1"))
    pipeline.find_faces(studio_ctx, draw_faces())
    assert studio_ctx.cache.misses <= misses + 2  # recogniser and swapper at most; the detector is a hit
    loaded = {m["name"]: m for m in studio_ctx.cache.stats()["models"]}
    assert loaded["face_detector"]["kind"] == "onnx" and loaded["face_detector"]["size_bytes"] > 0


def test_onnx_models_are_sized_and_moved_like_torch_models(studio_ctx):
    import onnxruntime as ort

    from studio.faces.onnx_model import providers_for
    from studio.models.cache import move, size_of

    with studio_ctx.cache.use(studio_ctx.spec(pipeline.SWAPPER)) as model:
        assert size_of(model) == model.path.stat().st_size  # claimed, not copied
        move(model, "cpu")
        assert model.session.get_providers() == ["CPUExecutionProvider"]
    cuda = "CUDAExecutionProvider" in ort.get_available_providers()
    assert providers_for("cuda")[0] == ("CUDAExecutionProvider" if cuda else "CPUExecutionProvider")
    assert providers_for("cpu") == ["CPUExecutionProvider"]
