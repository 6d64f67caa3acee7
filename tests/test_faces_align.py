"""Alignment: the least-squares similarity transform puts five landmarks on the template,
and its inverse undoes it exactly."""

from __future__ import annotations

import numpy as np
import pytest

from studio.faces import align


def _similarity(rng: np.random.Generator) -> np.ndarray:
    angle = rng.uniform(-np.pi, np.pi)
    scale = rng.uniform(0.2, 5.0)
    shift = rng.uniform(-500, 500, 2)
    rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return np.hstack([rotation, shift[:, None]])


@pytest.mark.parametrize("size", [112, 128, 224, 512])
def test_points_from_a_random_similarity_land_on_the_template(size):
    rng = np.random.default_rng(size)
    template = align.arcface_template(size)
    for _ in range(50):
        placed = _similarity(rng)  # where a face sits in some photo
        points = align.apply(align.invert(placed), template)  # its landmarks in that photo
        matrix = align.estimate_similarity(points, template)
        error = np.linalg.norm(align.apply(matrix, points) - template, axis=1)
        assert error.max() < 0.5


def test_noisy_points_are_fitted_by_least_squares():
    rng = np.random.default_rng(1)
    template = align.arcface_template(128)
    points = align.apply(align.invert(_similarity(rng)), template) + rng.normal(0, 0.5, (5, 2))
    matrix = align.estimate_similarity(points, template)
    residual = np.linalg.norm(align.apply(matrix, points) - template, axis=1)
    # Scaled onto the template the noise stays small, and no similarity fits better than least squares.
    import cv2

    reference, _ = cv2.estimateAffinePartial2D(points.astype(np.float32), template.astype(np.float32),
                                               method=cv2.LMEDS)
    theirs = np.linalg.norm(align.apply(reference, points) - template, axis=1)
    assert (residual ** 2).sum() <= (theirs ** 2).sum() + 1e-6


def test_inverse_after_forward_is_identity():
    rng = np.random.default_rng(2)
    for _ in range(50):
        matrix = _similarity(rng)
        points = rng.uniform(-1000, 1000, (20, 2))
        back = align.apply(align.invert(matrix), align.apply(matrix, points))
        assert np.allclose(back, points, atol=1e-6)
        both = np.vstack([align.invert(matrix), [0, 0, 1]]) @ np.vstack([matrix, [0, 0, 1]])
        assert np.allclose(both, np.eye(3), atol=1e-9)


def test_a_mirrored_face_is_not_fitted_by_a_reflection():
    template = align.arcface_template(112)
    mirrored = template * [-1, 1]
    matrix = align.estimate_similarity(mirrored, template)
    assert np.linalg.det(matrix[:, :2]) > 0  # rotation and scale only


def test_templates_follow_the_models_conventions():
    assert np.allclose(align.arcface_template(112), align.ARCFACE_112)
    assert np.allclose(align.arcface_template(224), align.ARCFACE_112 * 2)
    # inswapper_128 was trained on the 112 template shifted 8 pixels right.
    assert np.allclose(align.arcface_template(128), align.ARCFACE_112 + [8, 0])


@pytest.mark.parametrize("template, size, fill", [
    (align.arcface_template(112), 112, (0, 0, 0)),  # identity embedding: black, as ArcFace was trained
    (align.arcface_template(128), 128, (0, 0, 0)),  # inswapper: black
    (align.FFHQ_512, 512, align.FFHQ_FILL),  # GFPGAN: facexlib's grey
])
def test_a_crop_past_the_pictures_edge_is_filled_as_the_model_was_trained(template, size, fill):
    picture = np.full((200, 300, 3), 255, np.uint8)  # white: any edge repetition would show as white
    # The face's landmarks sit at the picture's top-left corner: half its crop lies outside.
    landmarks = template * (60 / size) - 30
    crop, matrix = align.crop(picture, landmarks, template, size, fill=fill)
    outside = align.apply(align.invert(matrix), [[1, 1]])[0]
    assert (outside < 0).all()  # the crop's corner comes from outside the picture
    assert tuple(crop[1, 1]) == fill and tuple(crop[-2, -2]) == (255, 255, 255)

