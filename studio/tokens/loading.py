"""Loaders for the tokenizer visualiser: a text tokenizer, and a VQ image tokenizer.

Classes are imported from their own submodules, not from the package top level:
transformers' and diffusers' lazy top-level modules are not thread-safe on first use
("cannot import name 'AutoTokenizer'" when two requests load at once).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.models.loaders import LoadRequest

if TYPE_CHECKING:
    from diffusers import VQModel
    from transformers import PreTrainedTokenizerBase


def load_tokenizer(request: LoadRequest) -> PreTrainedTokenizerBase:
    """Any Hugging Face tokenizer (Hub id or folder); no model weights are fetched."""
    from transformers.models.auto.tokenization_auto import AutoTokenizer

    return AutoTokenizer.from_pretrained(request.location, **request.hub_kwargs())


def load_vq(request: LoadRequest) -> VQModel:
    """A diffusers ``VQModel`` (e.g. aMUSEd's VQ-GAN in its ``vqvae`` subfolder), always fp32.

    The codebook lookup is a nearest-neighbour search (``torch.cdist``, which has no bf16
    kernel on CPU) that can pick other codes in half precision, and aMUSEd marks its
    VQ-GAN ``force_upcast``; it is small next to an image generator, so fp32 is cheap.
    """
    import torch
    from diffusers.models.autoencoders.vq_model import VQModel

    model = VQModel.from_pretrained(request.location, dtype=torch.float32, **request.hub_kwargs())
    return model.eval()
