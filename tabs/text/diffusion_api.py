"""The Diffusion mode for scripts: /diffuse_text, /fill_mask and /noise_text, typed (the
remasking rule is a listed choice), each the same GPU work as the page's buttons."""

from __future__ import annotations

from dataclasses import asdict

import gradio as gr

from studio.models import catalog
from studio.text.diffusion.fill_mask import CATALOG_NAME as FILL_MASK_MODELS
from studio.text.diffusion.fill_mask import EXAMPLE as FILL_EXAMPLE
from studio.text.diffusion.fill_mask import FillMaskResult
from studio.text.diffusion.request import CATALOG_NAME, DiffusionRequest
from studio.text.diffusion.selection import REMASKING_RULES
from tabs import owner
from tabs.api_types import choice
from tabs.common import TabContext, friendly, gpu_event
from tabs.text.diffusion_work import DEFAULTS, MASK_RATIO, NOISE_EXAMPLE, TOP_K, DiffusionWork

Remasking = choice(REMASKING_RULES)  # view_api() lists them


def fill_mask_summary(result: FillMaskResult) -> dict:
    """The JSON /fill_mask returns: each blank's candidates as {token, probability}."""
    return {
        "text": result.text,
        "filled": result.filled,
        "tokens": result.tokens,
        "masks": [
            {"index": guess.index, "candidates": [{"token": word, "probability": p} for word, p in guess.candidates]}
            for guess in result.masks
        ],
        "model": result.model,
    }


def register_api(ctx: TabContext, work: DiffusionWork) -> None:
    diffusion_model = catalog.choices(ctx.settings, CATALOG_NAME)[0]
    fill_model = catalog.choices(ctx.settings, FILL_MASK_MODELS)[0]

    def diffuse_text(
        prompt: str, model_id: str = diffusion_model, length: int = DEFAULTS.length, steps: int = DEFAULTS.steps,
        block_length: int = DEFAULTS.block_length, remasking: Remasking = DEFAULTS.remasking,
        temperature: float = DEFAULTS.temperature, seed: int = DEFAULTS.seed, request: gr.Request = None,
    ) -> dict:
        """Write an answer by masked diffusion: it starts as `length` [MASK]s and a bidirectional
        masked LM unmasks a few positions per step, block by block, left to right.

        Args:
            prompt: the question (written with the model's chat template)
            model_id: a masked-diffusion chat model (AutoModelForMaskedLM with a mask token)
            length: the answer's length in tokens
            steps: forward passes; tokens unmasked per step = length / steps
            block_length: semi-autoregressive blocks, filled left to right (>= length: one block)
            remasking: which predictions a step keeps: the most confident, or random ones
            temperature: 0 = the most likely token at every position
            seed: -1 = random (reported back)

        Returns:
            text (the answer), steps (the answer after each step: a token or null while masked),
            forward_passes, unmasked and confidences per step, seconds, seed, model, stopped_by
        """
        diffusion = DiffusionRequest(prompt, model_id, length, steps, block_length, remasking, temperature, seed)
        return work.run_to_end(diffusion, request, owner.key_for(ctx, request)).summary()

    def fill_mask(text: str = FILL_EXAMPLE, top_k: int = TOP_K, model_id: str = fill_model,
                  request: gr.Request = None) -> dict:
        """The top candidates for each [MASK] in `text`, with their probabilities, from one pass of
        a Chinese masked LM (the slide's fill-in-the-blank).

        Args:
            text: a sentence with one or more [MASK]s
            top_k: candidates per blank (special tokens are never shown)
            model_id: a masked LM

        Returns:
            text, filled (each blank's likeliest candidate put in), tokens, masks (per blank: index and
            candidates with token and probability), model
        """
        found = work.fill(request, owner.key_for(ctx, request), text, top_k, model_id)
        return fill_mask_summary(found)

    def noise_text(text: str = NOISE_EXAMPLE, mask_ratio: float = MASK_RATIO, seed: int = -1,
                   model_id: str = fill_model, request: gr.Request = None) -> dict:
        """Forward noising: `text` masked step by step, `mask_ratio` of its tokens more at each
        step, until only [MASK]s are left (the process diffusion learns to undo).

        Args:
            text: any sentence
            mask_ratio: the share of the tokens masked at each step (above 0, at most 1)
            seed: which positions are masked first; -1 = random (reported back)
            model_id: the masked LM whose tokenizer cuts the sentence

        Returns:
            tokens, steps (step 0 is the sentence; null = masked), order (positions in the order masked),
            mask_ratio, seed, model
        """
        return asdict(work.noise(request, owner.key_for(ctx, request), text, mask_ratio, seed, model_id))

    gr.api(friendly(diffuse_text), api_name="diffuse_text", **gpu_event(ctx))
    gr.api(friendly(fill_mask), api_name="fill_mask", **gpu_event(ctx))
    gr.api(friendly(noise_text), api_name="noise_text", **gpu_event(ctx))
