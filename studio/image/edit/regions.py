"""The regions Enhance repaints, found in a picture: faces by the studio's own face detector
(studio.faces), anything else named in words by Grounding DINO with SAM (studio.image.edit.segment).

Each find is one region with its own mask; the best ``most`` of a search are kept (faces: the
largest first). Boxes that mostly overlap one kept already are the same thing found twice.
A search that finds nothing says so in a note: it is not an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from PIL import Image

    from studio.context import StudioContext

# Words that mean "the face detector" (English, and Chinese as the class writes it).
FACE_WORDS = ("face", "faces", "臉", "人臉", "臉部", "脸", "人脸", "面部")
SAME_THING_IOU = 0.5  # two boxes overlapping this much are one find
DEFAULT_FACE_SCORE = 0.5  # studio.faces.detect's


@dataclass
class Region:
    what: str  # the words searched for
    box: tuple[int, int, int, int]  # left, top, right, bottom in pixels (right and bottom exclusive)
    mask: np.ndarray  # bool, the picture's size
    score: float
    finder: str  # "face detector" | "Grounding DINO + SAM"

    def record(self) -> dict[str, Any]:
        return {"box": list(self.box), "score": round(self.score, 4), "finder": self.finder}


def is_face(words: str) -> bool:
    return str(words or "").strip().lower() in FACE_WORDS


def find(studio: StudioContext, picture: Image.Image, words: str, most: int, box_threshold: float, text_threshold: float
         ) -> tuple[list[Region], int, list[str]]:
    """The regions of ``picture`` (PIL RGB) that ``words`` names, best first, at most ``most``;
    how many were found; and notes (nothing found, more found than kept)."""
    notes: list[str] = []
    if is_face(words):
        regions, finder = _faces(studio, picture, words), "The face detector"
    else:
        if not words.isascii():
            notes.append(f"Grounding DINO reads English: {words!r} may not be understood (write it in English, e.g. "
                         "hand, eyes, hair).")
        regions, finder = _named(studio, picture, words, box_threshold, text_threshold, notes), "Grounding DINO"
    if not regions and not any(note.startswith("Grounding DINO found") for note in notes):
        notes.append(f"{finder} found no {words!r} in the picture: nothing was enhanced for it.")
    elif len(regions) > most:
        kept = "the best one was" if most == 1 else f"the best {most} were"
        notes.append(f"{finder} found {len(regions)} × {words!r}; {kept} enhanced.")
    return regions[:most], len(regions), notes


def _faces(studio: StudioContext, picture: Image.Image, words: str) -> list[Region]:
    from studio.faces import detect, pipeline

    rgb = np.asarray(picture.convert("RGB"))
    with studio.cache.use(pipeline.model_spec(studio, pipeline.DETECTOR)) as model:
        faces = studio.cache.run(lambda: detect.detect(model, rgb, DEFAULT_FACE_SCORE))
    height, width = rgb.shape[:2]
    regions = []
    for face in sorted(faces, key=lambda f: -f.area):
        box = _pixel_box(face.box, width, height)
        if box[2] > box[0] and box[3] > box[1]:
            regions.append(Region(words, box, _oval(box, width, height), float(face.score), "face detector"))
    return regions


def _named(studio: StudioContext, picture: Image.Image, words: str, box_threshold: float, text_threshold: float,
           notes: list[str]) -> list[Region]:
    from studio.faces.detect import nms
    from studio.image.edit import segment

    with studio.cache.use(studio.spec("object_detector")) as detector:
        found = studio.cache.run(lambda: segment.detect(detector, picture, words, box_threshold, text_threshold))
    if not found:
        return []
    keep = nms(np.array([f.box for f in found], np.float32), np.array([f.score for f in found], np.float32),
               SAME_THING_IOU)
    found = [found[i] for i in keep]
    with studio.cache.use(studio.spec("segmenter")) as segmenter:
        cut = studio.cache.run(lambda: segment.segment(segmenter, picture, [f.box for f in found]))
    regions = []
    for item, mask in zip(found, cut):
        box = _pixel_box(item.box, picture.width, picture.height)
        if mask.any():
            regions.append(Region(words, box, mask, item.score, "Grounding DINO + SAM"))
    if len(regions) < len(found):
        notes.append(f"Grounding DINO found {len(found)} × {words!r}; SAM cut no pixels out of "
                     f"{len(found) - len(regions)} of those boxes, which were left alone.")
    return regions


def _pixel_box(box: Any, width: int, height: int) -> tuple[int, int, int, int]:
    left, top, right, bottom = (float(v) for v in box[:4])
    return (max(0, int(np.floor(left))), max(0, int(np.floor(top))),
            min(width, int(np.ceil(right))), min(height, int(np.ceil(bottom))))


def _oval(box: tuple[int, int, int, int], width: int, height: int) -> np.ndarray:
    """The ellipse inscribed in ``box``: a face's shape, leaving the box's corners (hair, background)."""
    left, top, right, bottom = box
    yy, xx = np.mgrid[top:bottom, left:right]
    cx, cy = (left + right - 1) / 2, (top + bottom - 1) / 2
    rx, ry = max((right - left) / 2, 0.5), max((bottom - top) / 2, 0.5)
    mask = np.zeros((height, width), dtype=bool)
    mask[top:bottom, left:right] = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1.0
    return mask
