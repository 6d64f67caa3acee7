"""Describe: an image turned into a prompt by a captioning model (BLIP) from the shared cache.

Two modes: Photo asks for "a photography of ..." and adds photographic words; Art / Anime
asks for "an illustration of ..." and adds illustration words. BLIP's known filler words
("arafed", "araffe") and repeated words are cleaned away.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio.errors import BadInput
from studio.models.loaders import LoadRequest, ModelWithProcessor, load_with_processor
from studio.pictures import reading
from studio.replicated import model_key, replicated
from studio.tools.fields import declared

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from PIL import Image

    from studio.context import StudioContext

MODES = {  # name -> (conditional prefix the captioner continues, words added after the caption)
    "photo": ("a photography of", "photograph, natural light, sharp focus, highly detailed"),
    "art": ("an illustration of", "illustration, anime style, vibrant colors, clean lineart, highly detailed"),
}
MAX_SIDE = 4096
MAX_NEW_TOKENS = 40
FILLER = re.compile(r"\b(arafed|araffe|arafe|arrafed|there is|there are)\b", re.I)


Captioner = ModelWithProcessor  # BLIP with its processor


def load_captioner(request: LoadRequest) -> Captioner:
    from transformers import BlipForConditionalGeneration, BlipProcessor

    return load_with_processor(request, BlipForConditionalGeneration, BlipProcessor)


@dataclass
class DescribeRequest:
    """Describe, declared once (studio.tools.fields): the Prompt tab's picture and mode controls,
    /describe_image's parameters and their checks all read these fields."""

    image: Any = declared(kind="picture", label="prompt.describe_image", doc="the picture to describe")
    mode: str = declared("photo", choices=tuple(MODES), choice_labels="prompt.mode", hint="radio",
                         label="prompt.describe_mode", doc="photo, or art (Art / Anime)")


def check_mode(mode: Any) -> str:
    value = str(mode or "").strip().lower().split("/")[0].strip()
    value = {"anime": "art", "art / anime": "art"}.get(value, value)
    if value not in MODES:
        raise BadInput(f"Mode must be 'photo' or 'art' (Art / Anime), not {str(mode)[:30]!r}.")
    return value


def open_image(image: Any) -> Image.Image:
    """An RGB picture no larger than MAX_SIDE (BLIP reads 384 px), read as every tool reads one
    (studio.pictures.reading: upright, transparency on white), or a clear sentence."""
    picture = reading.read_rgb(image, "The image", missing="Upload an image first: Describe turns a picture into a prompt.")
    if max(picture.size) > MAX_SIDE:
        picture = picture.copy()
        picture.thumbnail((MAX_SIDE, MAX_SIDE))
    return picture


def tidy(caption: str, prefix: str, extra: str) -> str:
    """The caption without the prefix, BLIP's filler words and immediate repeats, then the mode's words."""
    text = caption.strip()
    if text.lower().startswith(prefix):
        text = text[len(prefix):]
    text = FILLER.sub(" ", text)
    words: list[str] = []
    for word in text.split():
        if not words or word.lower() != words[-1].lower():
            words.append(word)
    subject = " ".join(words).strip(" ,.")
    return f"{subject}, {extra}" if subject else extra


@replicated("describe", lambda arguments: model_key("describe"))
def describe(studio: StudioContext, image: Any, mode: str = "photo") -> str:
    """A prompt for ``image`` in the given mode ("photo" or "art")."""
    mode = check_mode(mode)
    picture = open_image(image)
    prefix, extra = MODES[mode]
    import torch

    with studio.cache.use(studio.spec("describe")) as captioner:
        model, processor = captioner.model, captioner.processor
        inputs = processor(images=picture, text=prefix, return_tensors="pt").to(model.device)
        inputs["pixel_values"] = inputs["pixel_values"].to(model.dtype)

        def run():
            with torch.inference_mode():
                return model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, num_beams=1, do_sample=False)

        output = studio.cache.run(run)
        caption = processor.decode(output[0], skip_special_tokens=True)
    return tidy(caption, prefix, extra)
