"""CLIP skip: which layer of the CLIP text encoder a prompt is read from.

Counted as A1111 and Fooocus count it: 1 is the last layer, 2 the one before, and so on.
Unset (None) is the layer the family's pipeline reads anyway (``ImageFamily.native_clip_skip``):
SDXL's penultimate layer (2, which is also Fooocus's default) and SD 1.5's last layer (1,
A1111's default), so an unset CLIP skip keeps every picture exactly as it was. Anime and Pony
checkpoints made on SD 1.5 (NovelAI's lineage) expect 2.

diffusers counts from the pipeline's own layer instead (its ``clip_skip=1`` on SD 1.5 is the
penultimate layer), so the pipeline is given ``value − native``; the compel path (weights,
long prompts, and SD 1.5 where diffusers' own cannot: ``pipeline_can_skip``) reads the same
layer through ``skipping`` (equal to diffusers' embeddings, checked by the tests).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.errors import BadInput
from studio.image.families.base import ImageFamily

if TYPE_CHECKING:
    from diffusers import DiffusionPipeline
    from transformers import PreTrainedModel

RANGE = (1, 12)  # Fooocus's slider; SDXL's and SD 1.5's CLIP-L have 12 layers
COMPEL_LAYER = 2  # compel's "penultimate" embeddings read hidden_states[-2]


def pipeline_argument(family: ImageFamily, clip_skip: int | None) -> int | None:
    """diffusers' ``clip_skip`` for the A1111-counted ``clip_skip`` (None: the pipeline's own layer)."""
    if clip_skip is None or not family.uses("clip_skip") or clip_skip == family.native_clip_skip:
        return None
    return clip_skip - family.native_clip_skip


def check_layers(pipe: DiffusionPipeline, clip_skip: int) -> None:
    """A sentence when ``clip_skip`` reaches past the pipeline's CLIP encoder(s): N layers give N + 1
    hidden states (the embeddings first), so N + 1 is the deepest there is."""
    for name in ("text_encoder", "text_encoder_2"):
        encoder = getattr(pipe, name, None)
        layers = getattr(getattr(encoder, "config", None), "num_hidden_layers", None)
        if isinstance(layers, int) and clip_skip > layers + 1:
            raise BadInput(f"CLIP skip {clip_skip} reaches past this checkpoint's text encoder, which has {layers} "
                           f"layers: use 1 to {layers + 1}.")


def layer(family: ImageFamily, clip_skip: int | None) -> int:
    """The A1111-counted layer a request reads (its own, or the family's)."""
    return family.native_clip_skip if clip_skip is None else clip_skip


class SkippingEncoder:
    """A text encoder whose ``hidden_states[-2]`` is the layer ``clip_layer`` (A1111-counted), for
    compel's penultimate-layer embeddings; everything else is the encoder's own. Per call, so
    the shared encoder is never changed."""

    def __init__(self, encoder: PreTrainedModel, clip_layer: int):
        self._encoder = encoder
        self._shift = clip_layer - COMPEL_LAYER

    def __getattr__(self, name: str) -> Any:
        if name == "text_model" and not hasattr(self._encoder, "text_model"):
            # compel normalises through encoder.text_model.final_layer_norm; transformers 5's
            # CLIPTextModel holds its final norm itself.
            return self._encoder
        return getattr(self._encoder, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        output = self._encoder(*args, **kwargs)
        states = getattr(output, "hidden_states", None)
        if states is None or self._shift == 0:
            return output
        if self._shift > 0:
            states = tuple(states[: len(states) - self._shift])
        else:  # the last layer (CLIP skip 1 on SDXL): repeat it, so that [-2] lands on it
            states = tuple(states) + (states[-1],) * (-self._shift)
        output["hidden_states"] = states
        return output


def skipping(encoder: PreTrainedModel, clip_layer: int,
             normalised: bool = False) -> PreTrainedModel | SkippingEncoder:
    """``encoder`` reading layer ``clip_layer`` through compel's penultimate path (``normalised``:
    through the encoder's final norm, as SD 1.5 reads it)."""
    if clip_layer == COMPEL_LAYER and (not normalised or hasattr(encoder, "text_model")):
        return encoder
    return SkippingEncoder(encoder, clip_layer)


def pipeline_can_skip(family: ImageFamily, pipe: DiffusionPipeline) -> bool:
    """Whether the pipeline's own ``clip_skip`` works here. SDXL's reads the layer as it is; SD 1.5's
    normalises it through ``text_encoder.text_model``, which transformers 5's CLIPTextModel no
    longer has, so there the studio's own encoding (prompt_encoding) reads the layer."""
    return family.native_clip_skip != 1 or hasattr(getattr(pipe, "text_encoder", None), "text_model")
