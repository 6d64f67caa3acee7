"""The swapper: an inswapper-class model redraws a 128x128 aligned face with another
identity. It takes the identity as the recogniser's embedding multiplied by a projection
matrix kept inside the model (its last stored weight), renormalised."""

from __future__ import annotations

import numpy as np

from studio.errors import BadInput
from studio.faces import align
from studio.faces.onnx_model import OnnxModel, check_inputs

SIZE = 128
EMBEDDING = 512
EXPECTED = {"target": (1, 3, SIZE, SIZE), "source": (1, EMBEDDING)}


def check_swapper(model: OnnxModel) -> None:
    check_inputs(model, EXPECTED, "face swapper (inswapper_128)")


def projection(model: OnnxModel) -> np.ndarray:
    """The embedding projection stored in the model, read once per loaded model."""
    cached = getattr(model, "_face_projection", None)
    if cached is not None:
        return cached
    matrix = model.initializer(-1)
    if matrix.shape != (EMBEDDING, EMBEDDING):
        raise BadInput(
            f"{model.path.name} keeps no {EMBEDDING}×{EMBEDDING} identity projection as its last weight "
            f"(found {'×'.join(map(str, matrix.shape))}); it is not an inswapper-class swapper."
        )
    model._face_projection = matrix.astype(np.float32)
    return model._face_projection


def latent(model: OnnxModel, embedding: np.ndarray) -> np.ndarray:
    vector = np.asarray(embedding, np.float32).reshape(1, -1) @ projection(model)
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


def swap(model: OnnxModel, image: np.ndarray, landmarks: np.ndarray, embedding: np.ndarray
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(swapped 128x128 RGB uint8 face, the target's own aligned crop, the alignment matrix)."""
    check_swapper(model)
    crop, matrix = align.crop(image, landmarks, align.arcface_template(SIZE), SIZE)
    blob = (crop.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]
    (output,) = model.run({"target": np.ascontiguousarray(blob), "source": latent(model, embedding)})[:1]
    face = np.clip(np.asarray(output, np.float32)[0].transpose(1, 2, 0) * 255.0, 0, 255)
    return face.round().astype(np.uint8), crop, matrix
