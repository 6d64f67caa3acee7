"""Detector post-processing on hand-built raw outputs with known answers: anchor decoding
of boxes and landmarks, score threshold and non-maximum suppression."""

from __future__ import annotations

import numpy as np
import pytest

from studio.errors import BadInput
from studio.faces import detect

SIDE = 64  # strides 8, 16, 32 -> 8x8, 4x4, 2x2 locations, 2 anchors each


def _empty_outputs() -> list[np.ndarray]:
    counts = [(SIDE // s) ** 2 * 2 for s in detect.STRIDES]
    return ([np.zeros((n, 1), np.float32) for n in counts] + [np.zeros((n, 4), np.float32) for n in counts]
            + [np.zeros((n, 10), np.float32) for n in counts])


def _put(outputs, stride_index, row, col, anchor, score, distances, offsets):
    per_row = SIDE // detect.STRIDES[stride_index]
    index = (row * per_row + col) * 2 + anchor
    outputs[stride_index][index] = score
    outputs[3 + stride_index][index] = distances
    outputs[6 + stride_index][index] = offsets


def test_anchor_centres_are_row_major_and_repeated_per_anchor():
    centers = detect.anchor_centers(2, 3, 16)
    assert centers.shape == (12, 2)
    assert centers[:4].tolist() == [[0, 0], [0, 0], [16, 0], [16, 0]]
    assert centers[6].tolist() == [0, 16]


def test_box_and_landmarks_are_decoded_in_stride_units():
    outputs = _empty_outputs()
    offsets = [0.5, -0.25, 1, 0, 0, 0.5, -1, 1, 1.5, 1.25]
    _put(outputs, 1, row=1, col=2, anchor=1, score=0.9, distances=[1, 0.5, 2, 1.5], offsets=offsets)
    (face,) = detect.decode(outputs, (SIDE, SIDE), score_threshold=0.5)
    # centre (32, 16); distances x16: left 16, top 8, right 32, bottom 24
    assert face.box.tolist() == [16, 8, 64, 40]
    expected = np.array([32, 16] * 5, np.float32) + np.array(offsets) * 16
    assert np.allclose(face.landmarks, expected.reshape(5, 2))
    assert face.score == pytest.approx(0.9)


def test_threshold_and_nms_keep_the_best_of_overlapping_boxes():
    outputs = _empty_outputs()
    same = dict(distances=[1, 1, 1, 1], offsets=[0] * 10)
    _put(outputs, 1, 1, 1, 0, 0.8, **same)   # box 0..32 around (16, 16)
    _put(outputs, 1, 1, 1, 1, 0.95, **same)  # the same box, better score: kept
    _put(outputs, 0, 2, 2, 0, 0.7, distances=[2, 2, 2, 2], offsets=[0] * 10)  # (16,16) again at stride 8: overlaps
    _put(outputs, 2, 1, 1, 0, 0.6, distances=[0.25, 0.25, 0.25, 0.25], offsets=[0] * 10)  # (32,32) 16 px: small overlap
    _put(outputs, 0, 6, 6, 1, 0.3, **same)   # below the threshold
    faces = detect.decode(outputs, (SIDE, SIDE), score_threshold=0.5, nms_threshold=0.4)
    assert [round(f.score, 2) for f in faces] == [0.95, 0.6]
    assert faces[0].box.tolist() == [0, 0, 32, 32]
    assert faces[1].box.tolist() == [24, 24, 40, 40]
    assert len(detect.decode(outputs, (SIDE, SIDE), score_threshold=0.25, nms_threshold=0.4)) == 3


def test_nms_on_known_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10.5]], np.float32)
    scores = np.array([0.5, 0.9, 0.8, 0.4], np.float32)
    assert detect.nms(boxes, scores, 0.5) == [1, 2]
    assert detect.nms(boxes, scores, 0.99) == [1, 2, 0, 3]


def test_batched_outputs_are_accepted():
    outputs = _empty_outputs()
    _put(outputs, 2, 0, 1, 0, 0.9, distances=[0.5, 0.5, 0.5, 0.5], offsets=[0] * 10)
    faces = detect.decode([o[None] for o in outputs], (SIDE, SIDE))
    assert faces[0].box.tolist() == [16, -16, 48, 16]


def test_outputs_of_the_wrong_shape_are_refused_with_what_was_expected():
    outputs = _empty_outputs()
    with pytest.raises(BadInput, match="9"):
        detect.decode(outputs[:6], (SIDE, SIDE))
    outputs[0] = np.zeros((100, 1), np.float32)
    with pytest.raises(BadInput, match="128 of each"):
        detect.decode(outputs, (SIDE, SIDE))


@pytest.mark.parametrize("height, width, rows, cols", [
    (701, 1000, 448, 640),  # the reference truncates 448.64; rounding gave 449
    (1000, 701, 640, 448),
    (480, 480, 640, 640),
    (3, 2000, 0, 640),  # a sliver: one row at least
])
def test_the_letterbox_truncates_its_short_side_and_scales_by_the_height(height, width, rows, cols):
    blob, scale = detect.prepare(np.full((height, width, 3), 255, np.uint8))
    rows = max(rows, 1)
    white, pad = (255 - 127.5) / 128.0, -127.5 / 128.0
    assert scale == pytest.approx(rows / height)
    assert blob[0, 0, rows - 1, cols - 1] == pytest.approx(white)
    if rows < detect.INPUT_SIZE:
        assert blob[0, 0, rows, 0] == pytest.approx(pad)
    if cols < detect.INPUT_SIZE:
        assert blob[0, 0, 0, cols] == pytest.approx(pad)


def _plain_iou(a, b) -> float:
    """Intersection over union with lengths x2 - x1: the rule the reference does not use."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


@pytest.mark.parametrize("second, threshold, kept", [
    # shifted by one pixel: IoU 0.600 plainly, 20/30 = 0.667 counting pixels inclusively
    ([1, 0, 5, 4], 0.62, [0]),
    # half a pixel apart: no overlap plainly, a 0.5 x 5 one inclusively (2.5 / 47.5 = 0.053)
    ([4.5, 0, 8.5, 4], 0.04, [0]),
])
def test_nms_counts_box_sides_inclusively_as_the_reference_does(second, threshold, kept):
    boxes = np.array([[0, 0, 4, 4], second], np.float32)
    scores = np.array([0.9, 0.8], np.float32)
    assert _plain_iou(boxes[0], boxes[1]) <= threshold  # the plain rule would keep both
    assert detect.nms(boxes, scores, threshold) == kept


def test_nms_judges_overlaps_in_image_pixels_after_scaling():
    """The reference divides by the letterbox scale before NMS; with the +1 rule the same two
    boxes overlap less when they are four times larger."""
    outputs = _empty_outputs()
    _put(outputs, 0, 2, 2, 0, 0.9, distances=[0.25, 0.25, 0.25, 0.25], offsets=[0] * 10)  # 14, 14, 18, 18
    _put(outputs, 0, 2, 2, 1, 0.8, distances=[0.125, 0.25, 0.375, 0.25], offsets=[0] * 10)  # 15, 14, 19, 18
    # input pixels: 20/30 = 0.667 (dropped at 0.64); image pixels at scale 1/4: 221/357 = 0.619 (kept)
    assert len(detect.decode(outputs, (SIDE, SIDE), 0.5, 0.64)) == 1
    faces = detect.decode(outputs, (SIDE, SIDE), 0.5, 0.64, scale=0.25)
    assert [f.box.tolist() for f in faces] == [[56, 56, 72, 72], [60, 56, 76, 72]]
    assert np.allclose(faces[0].landmarks, 64)


@pytest.mark.parametrize("height, width", [(701, 1000), (1000, 701), (300, 200)])
def test_the_input_blob_is_the_bilinear_resize_of_the_letterboxed_picture(height, width):
    """Shrinking too is cv2.resize's default INTER_LINEAR, as the reference feeds SCRFD; the blob
    is what cv2.dnn.blobFromImage makes of the letterboxed picture (mean 127.5, scale 1/128)."""
    import cv2

    image = np.random.default_rng(height).integers(0, 256, (height, width, 3), np.uint8)
    blob, scale = detect.prepare(image)
    rows = round(scale * height)
    cols = int(detect.INPUT_SIZE * width / height) if height > width else detect.INPUT_SIZE

    def letterboxed(interpolation: int) -> np.ndarray:
        picture = np.zeros((detect.INPUT_SIZE, detect.INPUT_SIZE, 3), np.uint8)
        picture[:rows, :cols] = cv2.resize(image, (cols, rows), interpolation=interpolation)
        return cv2.dnn.blobFromImage(picture, 1 / 128, (detect.INPUT_SIZE,) * 2, (127.5,) * 3)

    assert np.allclose(blob, letterboxed(cv2.INTER_LINEAR), rtol=0, atol=1e-5)  # a grey level is 0.0078
    if scale < 1:  # and the test tells the two apart
        assert np.abs(blob - letterboxed(cv2.INTER_AREA)).max() > 0.1
