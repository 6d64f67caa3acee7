"""Alignment: the similarity transform (rotation, uniform scale, shift) that maps a face's
five landmarks onto a model's reference template, found by least squares (Umeyama), and
its exact inverse for pasting back."""

from __future__ import annotations

import numpy as np

# The ArcFace 5-point template for a 112x112 crop (eyes, nose tip, mouth corners).
ARCFACE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float64,
)
# The FFHQ template that GFPGAN-class restorers were trained on, for a 512x512 crop.
FFHQ_512 = np.array(
    [[192.98138, 239.94708], [318.90277, 240.19360], [256.63416, 314.01935], [201.26117, 371.41043],
     [313.08905, 371.15118]],
    dtype=np.float64,
)


def arcface_template(size: int) -> np.ndarray:
    """The ArcFace template for a size x size crop. Multiples of 112 scale it; other sizes
    (inswapper's 128) scale by size/128 and shift right by 8 units, the convention those
    models were trained with."""
    if size % 112 == 0:
        return ARCFACE_112 * (size / 112)
    ratio = size / 128
    return ARCFACE_112 * ratio + np.array([8.0 * ratio, 0.0])


def estimate_similarity(points: np.ndarray, template: np.ndarray) -> np.ndarray:
    """The 2x3 matrix M minimising sum |M [p, 1] - t|^2 over similarity transforms (Umeyama 1991)."""
    src = np.asarray(points, np.float64)
    dst = np.asarray(template, np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2 or len(src) < 2:
        raise ValueError(f"need matching N x 2 point sets (got {src.shape} and {dst.shape})")
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    covariance = dst_c.T @ src_c / len(src)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:  # a reflection is not a similarity
        sign[1, 1] = -1
    rotation = u @ sign @ vt
    variance = (src_c ** 2).sum() / len(src)
    scale = float(np.trace(np.diag(singular) @ sign) / variance) if variance > 0 else 1.0
    shift = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, shift[:, None]])


def invert(matrix: np.ndarray) -> np.ndarray:
    """The exact inverse of a 2x3 affine matrix."""
    linear = np.asarray(matrix, np.float64)[:, :2]
    inverse = np.linalg.inv(linear)
    return np.hstack([inverse, -(inverse @ np.asarray(matrix, np.float64)[:, 2:])])


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    points = np.asarray(points, np.float64)
    return points @ np.asarray(matrix, np.float64)[:, :2].T + np.asarray(matrix, np.float64)[:, 2]


# What fills a crop where it reaches past the picture: what each model saw in training. ArcFace
# and inswapper crops are black; GFPGAN's (facexlib) are a flat grey, (135, 133, 132) in BGR.
ARCFACE_FILL = (0, 0, 0)
FFHQ_FILL = (132, 133, 135)  # RGB


def crop(image: np.ndarray, landmarks: np.ndarray, template: np.ndarray, size: int,
         fill: tuple[int, int, int] = ARCFACE_FILL) -> tuple[np.ndarray, np.ndarray]:
    """The aligned size x size crop of a face (RGB), and the matrix that made it. Past the
    picture's edge the crop is ``fill``: repeating the edge pixels instead moves a face's
    identity embedding (cosine 0.97-0.98 to the trained fill's) and so its swap."""
    import cv2

    matrix = estimate_similarity(landmarks, template)
    warped = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                            borderValue=tuple(float(v) for v in fill))
    return warped, matrix
