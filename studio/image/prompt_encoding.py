"""CLIP prompts past 77 tokens and with weights, encoded by compel.

A CLIP text encoder reads 77 tokens. Longer prompts are cut in chunks of 75 tokens, each
encoded with its own start and end marks, and the chunks' embeddings are joined, as Fooocus,
A1111 and ComfyUI do; ``(word:1.3)`` weights (studio.image.prompt_syntax) scale their tokens'
embeddings by compel's method. A prompt that has neither is left to the pipeline's own encoder,
so its pixels stay exactly what they were.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from studio.image import clip_skip, prompt_syntax

if TYPE_CHECKING:
    import torch
    from compel import Compel
    from diffusers import DiffusionPipeline
    from transformers import PreTrainedTokenizerBase

CHUNK_TOKENS = 75  # 77 with the start and end marks
# At most this many chunks (600 tokens, several styles' worth): each one more is cross-attended
# at every step, and a 200,000-character prompt would make thousands.
MAX_CHUNKS = 8

Fragments = list[tuple[str, float]]


def token_count(tokenizer: PreTrainedTokenizerBase, prompt: str) -> int:
    return len(tokenizer(prompt_syntax.plain(prompt), truncation=False, add_special_tokens=False,
                         verbose=False)["input_ids"])


def chunks_for(tokens: int) -> int:
    """How many 77-token windows ``tokens`` words' tokens take (at least 1, at most MAX_CHUNKS)."""
    return min(MAX_CHUNKS, max(1, math.ceil(tokens / CHUNK_TOKENS)))


def kept(tokenizer: PreTrainedTokenizerBase, prompt: str) -> tuple[Fragments, str]:
    """The prompt's weighted fragments within MAX_CHUNKS chunks, and the text beyond (never read),
    cut where its first token left out begins in the text the user wrote."""
    budget = MAX_CHUNKS * CHUNK_TOKENS
    fragments: Fragments = []
    parts = prompt_syntax.fragments(prompt)
    for index, (text, weight) in enumerate(parts):
        encoded = tokenizer(text, truncation=False, add_special_tokens=False, return_offsets_mapping=True,
                            verbose=False)
        ids = encoded["input_ids"]
        if len(ids) <= budget:
            fragments.append((text, weight))
            budget -= len(ids)
            continue
        cut = encoded["offset_mapping"][budget][0]
        if text[:cut].strip():
            fragments.append((text[:cut], weight))
        later = "".join(t for t, _ in parts[index + 1:])
        return fragments, text[cut:] + later
    return fragments, ""


def needs_compel(pipe: DiffusionPipeline, prompt: str, negative: str) -> bool:
    """Weights, or more than one chunk, in either prompt."""
    tokenizer = pipe.tokenizer
    return any(prompt_syntax.has_weights(text) or token_count(tokenizer, text) > CHUNK_TOKENS
               for text in (prompt, negative))


def embeddings(pipe: DiffusionPipeline, kind: str, prompt: str, negative: str,
               clip_layer: int | None = None) -> dict[str, torch.Tensor]:
    """The pipeline call's ``prompt_embeds`` (and pooled / negative) for ``kind`` "sdxl" (two CLIP
    encoders, the second pooled) or "sd" (one). ``clip_layer``: the CLIP layer to read, counted
    as CLIP skip is (studio.image.clip_skip); None = the pipeline's own (SDXL 2, SD 1.5 1)."""
    import torch
    from compel import Compel, ReturnedEmbeddingsType

    device = getattr(pipe, "_execution_device", None)
    if kind == "sdxl":
        hidden = ReturnedEmbeddingsType.PENULTIMATE_HIDDEN_STATES_NON_NORMALIZED  # what SDXL's pipeline takes
        layer = clip_layer or 2
        first = Compel(tokenizer=pipe.tokenizer, text_encoder=clip_skip.skipping(pipe.text_encoder, layer),
                       returned_embeddings_type=hidden, truncate_long_prompts=False, device=device)
        second = Compel(tokenizer=pipe.tokenizer_2, text_encoder=clip_skip.skipping(pipe.text_encoder_2, layer),
                        returned_embeddings_type=hidden, truncate_long_prompts=False, requires_pooled=True,
                        device=device)
        with torch.no_grad():
            embeds, pooled = _joined(first, second, prompt)
            negative_embeds, negative_pooled = _joined(first, second, negative)
            empty = torch.cat([first.conditioning_provider.empty_z, second.conditioning_provider.empty_z], dim=-1)
            negative_empty = empty
            if not negative and getattr(pipe.config, "force_zeros_for_empty_prompt", False):
                # As SDXL's own encoder does: an empty negative prompt is all zeros.
                negative_embeds, negative_pooled, negative_empty = (
                    torch.zeros_like(t) for t in (negative_embeds, negative_pooled, empty))
        embeds, negative_embeds = _same_length(embeds, negative_embeds, empty, negative_empty)
        return {"prompt_embeds": embeds, "pooled_prompt_embeds": pooled,
                "negative_prompt_embeds": negative_embeds, "negative_pooled_prompt_embeds": negative_pooled}
    if (clip_layer or 1) == 1:  # SD 1.5's own: the last layer, normalised
        only = Compel(tokenizer=pipe.tokenizer, text_encoder=pipe.text_encoder, truncate_long_prompts=False,
                      device=device)
    else:  # an earlier layer, through the same final norm (as A1111 and diffusers read it)
        only = Compel(tokenizer=pipe.tokenizer, text_encoder=clip_skip.skipping(pipe.text_encoder, clip_layer, True),
                      returned_embeddings_type=ReturnedEmbeddingsType.PENULTIMATE_HIDDEN_STATES_NORMALIZED,
                      truncate_long_prompts=False, device=device)
    with torch.no_grad():
        empty = only.conditioning_provider.empty_z
        embeds, negative_embeds = _same_length(_conditioning(only, prompt), _conditioning(only, negative), empty, empty)
    return {"prompt_embeds": embeds, "negative_prompt_embeds": negative_embeds}


def _conditioning(compel: Compel, prompt: str) -> torch.Tensor:
    from compel.prompt_parser import FlattenedPrompt, Fragment

    fragments, _never_read = kept(compel.conditioning_provider.tokenizer, prompt)
    parts = [Fragment(text, weight) for text, weight in fragments] or [Fragment("", 1.0)]
    (conditioning, _tokens), _options = compel.build_conditioning_tensor_for_prompt_object(FlattenedPrompt(parts))
    return conditioning if conditioning.dim() == 3 else conditioning.unsqueeze(0)


def _joined(first: Compel, second: Compel, prompt: str) -> tuple[torch.Tensor, torch.Tensor]:
    """SDXL: both encoders' hidden states side by side (one width per token), and the second's pooled."""
    import torch

    left, right = _same_length(_conditioning(first, prompt), _conditioning(second, prompt),
                               first.conditioning_provider.empty_z, second.conditioning_provider.empty_z)
    pooled = second.conditioning_provider.get_pooled_embeddings([prompt_syntax.plain(prompt)], device=second.device)
    return torch.cat([left, right], dim=-1), pooled


def _same_length(a: torch.Tensor, b: torch.Tensor, a_pad: torch.Tensor,
                 b_pad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad the shorter of two conditionings with its own empty-prompt chunks (77 tokens each)."""
    import torch

    a_pad, b_pad = a_pad.to(a.device, a.dtype), b_pad.to(b.device, b.dtype)
    while a.shape[1] < b.shape[1]:
        a = torch.cat([a, a_pad.expand(a.shape[0], -1, -1)], dim=1)
    while b.shape[1] < a.shape[1]:
        b = torch.cat([b, b_pad.expand(b.shape[0], -1, -1)], dim=1)
    return a, b
