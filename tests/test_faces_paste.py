"""Paste-back: only the feathered mask region changes, blend 0 changes nothing, blend 1
puts the new face in the middle of the region."""

from __future__ import annotations

import numpy as np
import pytest

from studio.errors import BadInput
from studio.faces import align, paste

SIZE = 128


def _setup(seed=0):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    landmarks = align.arcface_template(SIZE) * 1.3 + [120, 60]  # a face a bit larger than the crop
    angle = 0.3
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    landmarks = (landmarks - landmarks.mean(0)) @ rot.T + landmarks.mean(0)
    matrix = align.estimate_similarity(landmarks, align.arcface_template(SIZE))
    face = rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    return image, face, matrix


def _crop_coordinates(matrix, shape):
    ys, xs = np.mgrid[: shape[0], : shape[1]]
    points = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float64)
    return align.apply(matrix, points).reshape(shape[0], shape[1], 2)


@pytest.mark.parametrize("feather", [0.0, 0.1, 0.3])
def test_pixels_outside_the_mask_are_unchanged(feather):
    image, face, matrix = _setup()
    result = paste.paste(image, face, matrix, blend=1.0, feather=feather)
    uv = _crop_coordinates(matrix, image.shape)
    outside = (uv < 1).any(-1) | (uv > SIZE - 2).any(-1)
    assert np.array_equal(result[outside], image[outside])
    inside = (uv > 20).all(-1) & (uv < SIZE - 20).all(-1)
    assert (result[inside] != image[inside]).any(-1).mean() > 0.9
    assert result.dtype == np.uint8 and result.shape == image.shape


def test_zero_blend_gives_the_original_image():
    image, face, matrix = _setup(1)
    result = paste.paste(image, face, matrix, blend=0.0)
    assert np.array_equal(result, image)
    assert result is not image


def test_full_blend_puts_the_new_face_in_the_middle():
    image, face, matrix = _setup(2)
    flat = np.full_like(face, 200)
    result = paste.paste(image, flat, matrix, blend=1.0, feather=0.1)
    uv = _crop_coordinates(matrix, image.shape)
    middle = (uv > 30).all(-1) & (uv < SIZE - 30).all(-1)
    assert np.abs(result[middle].astype(int) - 200).max() <= 1


def test_colour_matching_keeps_the_original_mean_colour():
    image, face, matrix = _setup(3)
    crop = np.full((SIZE, SIZE, 3), (90, 120, 150), np.uint8)
    bright = np.full((SIZE, SIZE, 3), 250, np.uint8)
    matched = paste.match_colour(bright, crop, paste.crop_mask(SIZE, 0.1))
    assert np.allclose(matched.mean((0, 1)), (90, 120, 150), atol=1)


def test_oval_region_changes_less_than_the_box():
    image, face, matrix = _setup(4)
    box = (paste.paste(image, face, matrix, feather=0.1, region="box") != image).any(-1).sum()
    oval = (paste.paste(image, face, matrix, feather=0.1, region="oval") != image).any(-1).sum()
    assert 0 < oval < box


def test_bad_blend_and_region_are_refused():
    image, face, matrix = _setup()
    with pytest.raises(BadInput, match="blend"):
        paste.paste(image, face, matrix, blend=1.5)
    with pytest.raises(BadInput, match="region"):
        paste.paste(image, face, matrix, region="triangle")


def test_inplace_paste_writes_into_the_image_and_matches_the_copy():
    image, face, matrix = _setup(5)
    copied = paste.paste(image, face, matrix, feather=0.2)
    target = image.copy()
    written = paste.paste(target, face, matrix, feather=0.2, inplace=True)
    assert written is target and np.array_equal(written, copied)
