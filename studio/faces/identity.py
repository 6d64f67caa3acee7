"""Who a face is: an ArcFace-class recogniser turns the aligned 112x112 crop into a
512-number embedding, L2-normalised so that a dot product is the cosine similarity."""

from __future__ import annotations

import numpy as np

from studio.errors import BadInput
from studio.faces import align
from studio.faces.onnx_model import OnnxModel, check_inputs

SIZE = 112


def check_recogniser(model: OnnxModel) -> None:
    check_inputs(model, {"*": (1, 3, SIZE, SIZE)}, "face recogniser (ArcFace, 112×112)")


def normalise(vector: np.ndarray) -> np.ndarray:
    vector = np.asarray(vector, np.float32).reshape(-1)
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm) or norm == 0:
        raise BadInput("The face recogniser gave an empty embedding for this face; try a clearer photo.")
    return vector / norm


def embed(model: OnnxModel, image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The unit-length identity embedding of the face at ``landmarks`` in an RGB uint8 image."""
    check_recogniser(model)
    face, _ = align.crop(image, landmarks, align.arcface_template(SIZE), SIZE)
    blob = ((face.astype(np.float32) - 127.5) / 127.5).transpose(2, 0, 1)[None]
    (output,) = model.run({next(iter(model.inputs)): np.ascontiguousarray(blob)})[:1]
    return normalise(output)


def average(embeddings: list[np.ndarray]) -> np.ndarray:
    """One identity from several photos of the same person: the mean direction."""
    return normalise(np.mean(np.stack(embeddings), axis=0))


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(normalise(a), normalise(b)))
