"""Finding a thing named in words: Grounding DINO boxes it, SAM cuts it out.

Grounding DINO (transformers' zero-shot object detection) reads the picture and a phrase and
gives boxes, each with a score (how well its best token matches). SAM, given each box as its
prompt, gives the object's mask. Both are shared cache entries (catalog ``object_detector`` and
``segmenter``), each its model with its processor; this module holds no model of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

import numpy as np

from studio.models.loaders import LoadRequest, ModelWithProcessor, load_with_processor

if TYPE_CHECKING:
    import torch
    from PIL import Image
    from transformers import PreTrainedModel

DEFAULT_BOX_THRESHOLD = 0.3  # Fooocus's Enhance defaults
DEFAULT_TEXT_THRESHOLD = 0.25


# Each is its model with its processor: Grounding DINO's, and SAM's.
Detector = Segmenter = ModelWithProcessor

# Both are small (under 1 GB) and their scores are compared with thresholds: they run in fp32
# whatever the studio's dtype, so a box's score is the same on every card.


def load_detector(request: LoadRequest) -> Detector:
    import torch
    from transformers import AutoModelForZeroShotObjectDetection, AutoProcessor

    return load_with_processor(request, AutoModelForZeroShotObjectDetection, AutoProcessor, dtype=torch.float32)


def load_segmenter(request: LoadRequest) -> Segmenter:
    import torch
    from transformers import SamModel, SamProcessor

    return load_with_processor(request, SamModel, SamProcessor, dtype=torch.float32)


@dataclass(frozen=True)
class Found:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in the picture's pixels
    score: float
    label: str  # the words of the phrase it matched


def phrase(words: str) -> str:
    """The words as Grounding DINO reads a query: lower case, each thing ended by a full stop
    ("hand, eye" -> "hand. eye.")."""
    parts = [part.strip(" .") for part in words.lower().replace(",", ".").split(".")]
    return " ".join(f"{part}." for part in parts if part)


def _inputs_on(model: PreTrainedModel, inputs: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The processor's tensors on the model's device, pictures in its dtype."""
    parameter = next(model.parameters())
    return {name: (value.to(parameter.device, parameter.dtype) if value.is_floating_point()
                   else value.to(parameter.device)) for name, value in inputs.items()}


def detect(detector: Detector, image: Image.Image, words: str, box_threshold: float = DEFAULT_BOX_THRESHOLD,
           text_threshold: float = DEFAULT_TEXT_THRESHOLD) -> list[Found]:
    """Boxes of ``words`` in ``image`` (PIL RGB) scoring at least ``box_threshold``, best first."""
    import torch

    query = phrase(words)
    inputs = detector.processor(images=image, text=query, return_tensors="pt")
    with torch.inference_mode():
        outputs = detector.model(**_inputs_on(detector.model, inputs))
    found = detector.processor.post_process_grounded_object_detection(
        outputs, inputs["input_ids"], threshold=float(box_threshold), text_threshold=float(text_threshold),
        target_sizes=[(image.height, image.width)])[0]
    labels = found["text_labels"] if "text_labels" in found else found["labels"]
    boxes = [Found(tuple(float(v) for v in box), float(score), str(label))
             for box, score, label in zip(found["boxes"].float().cpu().tolist(), found["scores"].float().cpu().tolist(),
                                          labels)]
    return sorted(boxes, key=lambda item: -item.score)


def segment(segmenter: Segmenter, image: Image.Image,
            boxes: list[tuple[float, float, float, float]]) -> list[np.ndarray]:
    """One boolean mask (the picture's size) per box: SAM's best mask for it, kept inside its box
    (SAM's mask may leak past a box it was given; the region is what was found)."""
    import torch

    if not boxes:
        return []
    inputs = segmenter.processor(images=image, input_boxes=[[list(box) for box in boxes]], return_tensors="pt")
    sizes = {name: inputs.pop(name) for name in ("original_sizes", "reshaped_input_sizes")}
    with torch.inference_mode():
        outputs = segmenter.model(**_inputs_on(segmenter.model, inputs), multimask_output=False)
    masks = segmenter.processor.image_processor.post_process_masks(
        outputs.pred_masks.float().cpu(), sizes["original_sizes"], sizes["reshaped_input_sizes"])[0]
    out = []
    for mask, box in zip(masks[:, 0].numpy().astype(bool), boxes):
        left, top, right, bottom = _pixel_box(box, image.width, image.height)
        inside = np.zeros_like(mask)
        inside[top:bottom, left:right] = mask[top:bottom, left:right]
        out.append(inside)
    return out


def _pixel_box(box: tuple[float, float, float, float], width: int, height: int) -> tuple[int, int, int, int]:
    left, top, right, bottom = box
    return (max(0, int(np.floor(left))), max(0, int(np.floor(top))),
            min(width, int(np.ceil(right))), min(height, int(np.ceil(bottom))))
