"""Forward noising, the slide's other direction: a sentence masked a few tokens a step until only
[MASK]s are left (炎龍老師很好笑 → 炎龍老師很[MASK] → … → [MASK][MASK]…).

Each step masks ``mask_ratio`` of the sentence's tokens more (at least one), at positions drawn
with the request's seed, as the masked-diffusion training process corrupts text. Only the
fill-mask model's tokenizer is read: the sentence is shown in the tokens that model sees.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from studio.errors import BadInput
from studio.text.diffusion.fill_mask import CATALOG_NAME, check_text
from studio.text.generate import resolve_seed
from studio.text.limits import MAX_MODEL_ID_CHARS, bounded_text
from studio.text.sampling import number

if TYPE_CHECKING:
    from studio.context import StudioContext

MAX_TOKENS = 128  # one row per step on the page


@dataclass
class NoisingResult:
    tokens: list[str]  # the sentence, one string per token
    steps: list[list[str | None]]  # step 0 is the sentence; None = masked; the last is all None
    order: list[int]  # token positions in the order they were masked
    mask_ratio: float
    seed: int
    model: str


def masking_order(count: int, seed: int) -> list[int]:
    order = list(range(count))
    random.Random(seed).shuffle(order)
    return order


def noise_steps(tokens: list[str], order: list[int], per_step: int) -> list[list[str | None]]:
    """The sentence, then ``per_step`` more positions of ``order`` masked at each step."""
    steps: list[list[str | None]] = [list(tokens)]
    for done in range(per_step, len(order) + per_step, per_step):
        masked = set(order[:done])
        steps.append([None if i in masked else token for i, token in enumerate(tokens)])
    return steps


def forward_noising(
    studio: StudioContext, text: str, mask_ratio: float = 0.25, seed: int = -1, model_id: str = ""
) -> NoisingResult:
    """``text`` masked step by step, ``mask_ratio`` of its tokens more at each step."""
    text = check_text(text)
    ratio = number("The mask ratio", mask_ratio, float)
    if not 0.0 < ratio <= 1.0:
        raise BadInput(f"The mask ratio is the share of tokens masked per step: above 0 and at most 1, not {ratio:g}.")
    seed = resolve_seed(seed)
    model_id = bounded_text(model_id, "model id", MAX_MODEL_ID_CHARS).strip()
    spec = studio.spec(CATALOG_NAME, model_id or None)
    with studio.cache.use(spec, where="any") as masked_lm:  # the tokenizer alone: no need for the device
        tokenizer = masked_lm.tokenizer
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        if len(ids) > MAX_TOKENS:
            raise BadInput(f"The sentence is {len(ids)} tokens; noising shows at most {MAX_TOKENS}, one row per step.")
        tokens = [piece.strip() for piece in tokenizer.batch_decode([[i] for i in ids], skip_special_tokens=False)]
    order = masking_order(len(tokens), seed)
    per_step = max(1, math.floor(ratio * len(tokens) + 0.5))
    model_name = f"{model_id or 'default'} ({spec.source})" if spec.is_tiny else spec.source
    return NoisingResult(tokens, noise_steps(tokens, order, per_step), order, ratio, seed, model_name)
