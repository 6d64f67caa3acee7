"""Face detection with 5-point landmarks on an SCRFD-class ONNX detector.

SCRFD predicts, on feature maps of strides 8, 16 and 32 with 2 anchors per location, a
score, four distances from the anchor centre to the box sides and ten landmark offsets,
all in units of the stride. Decoding and non-maximum suppression are plain numpy.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from studio.errors import BadInput
from studio.faces.onnx_model import OnnxModel, check_inputs

STRIDES = (8, 16, 32)
ANCHORS_PER_LOCATION = 2
INPUT_SIZE = 640  # the side SCRFD models are exported and trained for
DEFAULT_SCORE = 0.5
DEFAULT_NMS = 0.4
MAX_FACES = 64  # a crowd photo; more is not a face-swap request


@dataclass
class Face:
    box: np.ndarray  # x1, y1, x2, y2 in image pixels
    landmarks: np.ndarray  # 5 x 2: left eye, right eye, nose, left mouth corner, right mouth corner
    score: float
    embedding: np.ndarray | None = None  # filled by the recogniser when needed

    @property
    def area(self) -> float:
        return float(max(0.0, self.box[2] - self.box[0]) * max(0.0, self.box[3] - self.box[1]))

    def as_dict(self, number: int) -> dict[str, Any]:
        return {
            "number": number,
            "box": [round(float(v), 1) for v in self.box],
            "landmarks": [[round(float(x), 1), round(float(y), 1)] for x, y in self.landmarks],
            "score": round(float(self.score), 4),
        }


def anchor_centers(height: int, width: int, stride: int, per_location: int = ANCHORS_PER_LOCATION) -> np.ndarray:
    """(height*width*per_location) x 2 centres, row-major, each location repeated per anchor."""
    ys, xs = np.mgrid[:height, :width]
    centers = np.stack([xs, ys], axis=-1).reshape(-1, 2).astype(np.float32) * stride
    return np.repeat(centers, per_location, axis=0)


def distance_to_box(centers: np.ndarray, distances: np.ndarray) -> np.ndarray:
    return np.concatenate([centers - distances[:, :2], centers + distances[:, 2:4]], axis=1)


def distance_to_points(centers: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    return (np.tile(centers, offsets.shape[1] // 2) + offsets).reshape(len(centers), offsets.shape[1] // 2, 2)


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> list[int]:
    """Indices kept, best score first: a box is dropped when it overlaps a kept one by more
    than ``threshold`` (intersection over union).

    Lengths count pixels inclusively (x2 - x1 + 1), for areas and overlaps alike, as SCRFD's
    reference code does: the plain rule keeps different boxes when faces are small."""
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(int(best))
        w = np.maximum(0.0, np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]) + 1)
        inter = w * h
        # The floor only guards degenerate boxes (x2 < x1 - 1): a real box has an area of at least 1.
        iou = inter / np.maximum(areas[best] + areas[rest] - inter, 1e-9)
        order = rest[iou <= threshold]
    return keep


def decode(outputs: list[np.ndarray], input_size: tuple[int, int], score_threshold: float = DEFAULT_SCORE,
           nms_threshold: float = DEFAULT_NMS, scale: float = 1.0) -> list[Face]:
    """Faces from the detector's raw outputs: [scores x3, boxes x3, points x3] in stride order
    8, 16, 32 (a leading batch dimension of 1 is allowed), in image pixels (input pixels divided
    by ``scale``, the image-to-input scale). The division comes before NMS, as in the reference:
    with its +1 rule, NMS gives other answers on other scales."""
    count = len(STRIDES)
    if len(outputs) != 3 * count:
        raise BadInput(
            f"The face detector gave {len(outputs)} outputs; an SCRFD detector with landmarks gives 9 "
            "(score, box and landmark maps for strides 8, 16 and 32)."
        )
    height, width = input_size
    all_boxes, all_points, all_scores = [], [], []
    for i, stride in enumerate(STRIDES):
        scores = np.asarray(outputs[i], np.float32).reshape(-1)
        distances = np.asarray(outputs[i + count], np.float32).reshape(-1, 4) * stride
        offsets = np.asarray(outputs[i + 2 * count], np.float32).reshape(-1, 10) * stride
        centers = anchor_centers(height // stride, width // stride, stride)
        if not len(scores) == len(distances) == len(offsets) == len(centers):
            raise BadInput(
                f"The face detector's stride-{stride} outputs have {len(scores)} scores, {len(distances)} boxes "
                f"and {len(offsets)} landmark sets; {len(centers)} of each were expected for a "
                f"{width}x{height} input with {ANCHORS_PER_LOCATION} anchors per location."
            )
        hit = scores >= score_threshold
        all_scores.append(scores[hit])
        all_boxes.append(distance_to_box(centers[hit], distances[hit]))
        all_points.append(distance_to_points(centers[hit], offsets[hit]))
    scores = np.concatenate(all_scores)
    boxes = np.concatenate(all_boxes) / scale
    points = np.concatenate(all_points) / scale
    keep = nms(boxes, scores, nms_threshold)[:MAX_FACES]
    return [Face(boxes[k], points[k], float(scores[k])) for k in keep]


def check_detector(model: OnnxModel) -> None:
    check_inputs(model, {"*": (1, 3, None, None)}, "face detector (SCRFD with landmarks)")
    if len(model.outputs) != 3 * len(STRIDES):
        raise BadInput(
            f"{model.path.name} does not look like an SCRFD face detector with landmarks: it should give 9 outputs "
            f"(score, box and landmark maps for strides 8, 16 and 32), this one gives {len(model.outputs)}."
        )


_buffers = threading.local()


def _buffer(size: int) -> np.ndarray:
    """This thread's input blob, reused: a fresh 5 MB array costs more in page faults than
    the detector's own preprocessing. Safe because a thread runs one detection at a time."""
    blob = getattr(_buffers, "blob", None)
    if blob is None or blob.shape[-1] != size:
        blob = _buffers.blob = np.empty((1, 3, size, size), np.float32)
    return blob


def prepare(image: np.ndarray, size: int = INPUT_SIZE) -> tuple[np.ndarray, float]:
    """Letterbox an RGB uint8 image into size x size (top-left, keeping its aspect), as SCRFD
    was trained; returns the NCHW float blob and the scale from image to input pixels."""
    import cv2

    height, width = image.shape[:2]
    # The shorter side is truncated and the scale taken from the height, as SCRFD's reference
    # code does (1000×701 → 640×448, scale 448/701): rounding shifts every box by up to 0.14%.
    if height > width:
        new_height, new_width = size, max(1, int(size * width / height))
    else:
        new_width, new_height = size, max(1, int(size * height / width))
    scale = new_height / height
    # Bilinear, shrinking included, as the reference code feeds SCRFD (cv2.resize's default):
    # INTER_AREA moved some input pixels by up to 78 grey levels and the scores with them.
    resized = cv2.resize(image, (new_width, new_height), interpolation=cv2.INTER_LINEAR)
    # Written channel by channel straight into NCHW: no full-size float HWC copy. The padding
    # is black (0) in pixel space, as in training.
    blob = _buffer(size)
    h, w = resized.shape[:2]
    blob[:, :, h:, :] = -127.5 / 128.0
    blob[:, :, :h, w:] = -127.5 / 128.0
    for channel in range(3):
        np.multiply(resized[..., channel], 1 / 128.0, out=blob[0, channel, :h, :w], casting="unsafe")
        blob[0, channel, :h, :w] -= 127.5 / 128.0
    return blob, scale


def detect(model: OnnxModel, image: np.ndarray, score_threshold: float = DEFAULT_SCORE,
           nms_threshold: float = DEFAULT_NMS) -> list[Face]:
    """Faces in an RGB uint8 image, numbered left to right (reading order of their centres)."""
    check_detector(model)
    blob, scale = prepare(image)
    name = next(iter(model.inputs))
    faces = decode(model.run({name: blob}), (INPUT_SIZE, INPUT_SIZE), score_threshold, nms_threshold, scale)
    return sorted(faces, key=lambda f: ((f.box[0] + f.box[2]) / 2, (f.box[1] + f.box[3]) / 2))
