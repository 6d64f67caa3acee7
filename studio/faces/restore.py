"""Optional face restoration: a GFPGAN-class ONNX model redraws the aligned 512x512 face
(FFHQ template) with sharper detail; the result is blended back by a strength."""

from __future__ import annotations

import numpy as np

from studio.faces import align, paste
from studio.faces.onnx_model import OnnxModel, check_inputs

SIZE = 512


def check_restorer(model: OnnxModel) -> None:
    check_inputs(model, {"*": (1, 3, SIZE, SIZE)}, "face restorer (GFPGAN-class, 512×512)")


def restore(model: OnnxModel, image: np.ndarray, landmarks: np.ndarray, strength: float,
            feather: float = 0.1, inplace: bool = False) -> np.ndarray:
    """``image`` with the face at ``landmarks`` restored; strength 0 returns it unchanged."""
    if strength <= 0:
        return image if inplace else image.copy()
    check_restorer(model)
    crop, matrix = align.crop(image, landmarks, align.FFHQ_512 * (SIZE / 512), SIZE, fill=align.FFHQ_FILL)
    blob = ((crop.astype(np.float32) / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None]
    (output,) = model.run({next(iter(model.inputs)): np.ascontiguousarray(blob)})[:1]
    face = ((np.clip(np.asarray(output, np.float32)[0], -1, 1) + 1) * 127.5).transpose(1, 2, 0)
    return paste.paste(image, face.round().astype(np.uint8), matrix, blend=min(strength, 1.0), feather=feather,
                       inplace=inplace)
