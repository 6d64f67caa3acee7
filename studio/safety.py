"""The safety checker: a picture that may be NSFW is blacked out before anyone sees it.

A class projects its results. Every tool that makes a picture (Image, Edit, Face swap) saves it
through ``studio.pictures.outputs``, which asks the run's ``Screen`` first: the standard Stable
Diffusion safety checker (CLIP ViT-L/14 image embeddings against its concept embeddings,
diffusers' ``StableDiffusionSafetyChecker``), loaded once into the shared cache. A flagged picture
is replaced by a black one of the same size, which says why; the original is never saved.

Whether a run is screened is decided where the run starts (on when the studio is exposed; the
teacher may switch it) and carried into the work, across a ZeroGPU fork too, by ``screening``.
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import TYPE_CHECKING, Any, Iterator, Protocol

from studio import progress

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from pathlib import Path

    from PIL import Image

    from studio.context import StudioContext
    from studio.models.loaders import LoadRequest, ModelWithProcessor

NOTE = "Blacked out by the safety checker: the picture may not be suitable for the class."
_screen: contextvars.ContextVar["Screen | None"] = contextvars.ContextVar("studio_safety_screen", default=None)


def load_safety_checker(request: LoadRequest) -> ModelWithProcessor:
    """The checker, with the image processor that makes its CLIP input."""
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
    from transformers import CLIPImageProcessor

    from studio.models.loaders import load_with_processor

    return load_with_processor(request, StableDiffusionSafetyChecker, CLIPImageProcessor)


class Screen:
    """Checks pictures for one run, with the checker from the shared cache."""

    def __init__(self, studio: StudioContext):
        self.studio = studio

    def flagged(self, image: Image.Image) -> bool:
        import numpy as np
        import torch

        spec = self.studio.spec("safety_checker")
        with self.studio.cache.use(spec) as checker:
            model = checker.model
            parameter = next(model.parameters())
            rgb = image.convert("RGB")
            clip_input = checker.processor(images=rgb, return_tensors="pt").pixel_values
            pixels = np.asarray(rgb, dtype=np.float32)[None] / 255.0
            with torch.inference_mode():
                _, has_nsfw = model(clip_input=clip_input.to(parameter.device, parameter.dtype), images=pixels)
        return bool(has_nsfw[0])

    def __call__(self, image: Image.Image) -> tuple[Image.Image, str | None]:
        """The picture to show and save, and the note when it was blacked out."""
        if not self.flagged(image):
            return image, None
        from PIL import Image

        return Image.new(image.mode if image.mode in ("RGB", "RGBA", "L") else "RGB", image.size), NOTE


def screen(image: Image.Image) -> tuple[Image.Image, str | None]:
    """``image`` as the current run may show it (unchanged where the run is not screened)."""
    current = _screen.get()
    return (image, None) if current is None else current(image)


class Screened(Protocol):
    """A result whose picture is screened: an ImageResult, an EditResult, a SwapResult (their
    layers are above this one, so they are named by what is read and changed)."""

    image: Image.Image
    notes: list[str]


def screen_result(result: Screened, record: dict[str, Any]) -> None:
    """Screen a result before it is saved or shown: its ``image`` (and nothing else) replaced when
    flagged, the note added to its ``notes`` and the ``record`` saved with it."""
    result.image, note = screen(result.image)
    if note:
        result.notes.append(note)
        record["safety"] = "blacked out"


def active() -> bool:
    """Whether the current run is screened (its live previews are then held back too)."""
    return _screen.get() is not None


@contextlib.contextmanager
def screening(studio: StudioContext, on: bool) -> Iterator[None]:
    """Screen every picture the work inside makes (and the threads it starts through
    ``studio.progress.Task``, which carry this context)."""
    token = _screen.set(Screen(studio) if on else None)
    previews = progress.previews_shown.set(not on)
    try:
        yield
    finally:
        progress.previews_shown.reset(previews)
        _screen.reset(token)


def build_safety_checker_twin(folder: Path) -> None:
    """The tiny twin: the checker's own architecture (a CLIP vision tower, its projection and the
    concept embeddings) at toy size, with random weights. Its concept thresholds are 1, above any
    cosine, so it flags nothing until a test sets them below (``concept_embeds_weights``): the rule
    the test controls runs through the real checker's own scoring."""
    import torch
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
    from transformers import CLIPConfig, CLIPImageProcessor

    size = 32
    config = CLIPConfig(
        text_config={"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2},
        vision_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                       "image_size": size, "patch_size": 8},
        projection_dim=16,
    )
    torch.manual_seed(0)  # the same twin on every machine
    model = StableDiffusionSafetyChecker(config)
    with torch.no_grad():
        model.concept_embeds.copy_(torch.randn_like(model.concept_embeds))
        model.special_care_embeds.copy_(torch.randn_like(model.special_care_embeds))
    model.save_pretrained(folder)
    CLIPImageProcessor(size={"shortest_edge": size}, crop_size={"height": size, "width": size}).save_pretrained(folder)
