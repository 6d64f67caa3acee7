"""The next-token maths: softmax, temperature, top-k, top-p, min-p and typical-p on a score vector.

The warpers are transformers' own (the ones ``generate`` uses), so the explorer shows exactly
the distribution generation samples from.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio.errors import BadInput
from studio.text.limits import MAX_SCORES, MAX_SCORES_TEXT_CHARS, bounded_text, shown
from studio.text.sampling import SamplingSettings, number

if TYPE_CHECKING:
    import torch


def sampling_warpers(settings: SamplingSettings) -> list[Any]:
    """transformers LogitsProcessors in generate's own order; empty when no die is rolled."""
    # From the submodule: transformers' lazy top-level names are not safe to resolve from
    # several threads at once, plain submodule imports are.
    from transformers.generation.logits_process import (
        MinPLogitsWarper,
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
        TypicalLogitsWarper,
    )

    if not settings.samples:
        return []
    warpers: list[Any] = []
    if settings.temperature != 1.0:
        warpers.append(TemperatureLogitsWarper(settings.temperature))
    if settings.top_k > 0:
        warpers.append(TopKLogitsWarper(top_k=settings.top_k))
    if settings.top_p < 1.0:
        warpers.append(TopPLogitsWarper(top_p=settings.top_p))
    if settings.min_p > 0:
        warpers.append(MinPLogitsWarper(min_p=settings.min_p))
    if settings.typical_p < 1.0:
        warpers.append(TypicalLogitsWarper(mass=settings.typical_p))
    return warpers


@dataclass
class FilteredDistribution:
    """For every token: its raw probability (softmax at temperature 1), its probability after
    the filters (0 where removed), and whether it survived."""

    raw_probs: torch.Tensor  # 1-D float
    probs: torch.Tensor  # 1-D float
    kept: torch.Tensor  # 1-D bool


def filter_logits(logits: torch.Tensor, settings: SamplingSettings) -> FilteredDistribution:
    """Apply the settings to one vector of next-token scores (a 1-D torch tensor)."""
    import torch

    scores = logits.detach().to(torch.float32).reshape(1, -1)
    raw = torch.softmax(scores, dim=-1)[0]
    if not settings.samples:  # greedy and beam search pick the best token: a one-hot "distribution"
        probs = torch.zeros_like(raw)
        probs[int(torch.argmax(raw))] = 1.0
        return FilteredDistribution(raw, probs, probs > 0)
    dummy_ids = torch.zeros((1, 1), dtype=torch.long)  # the warpers ignore the context
    for warper in sampling_warpers(settings):
        scores = warper(dummy_ids, scores)
    probs = torch.softmax(scores, dim=-1)[0]
    kept = torch.isfinite(scores[0])
    return FilteredDistribution(raw, probs, kept)


# --- the softmax homework: a few scores typed by hand ------------------------------------

_SPLIT = re.compile(r"[\s,;，、]+")


def parse_scores(text: str) -> list[float]:
    text = bounded_text(text, "list of scores", MAX_SCORES_TEXT_CHARS)
    parts = [p for p in _SPLIT.split(text.strip()) if p]
    if not parts:
        raise BadInput("Type a few scores (logits) separated by commas, e.g. 2.0, 1.0, 0.1.")
    if len(parts) > MAX_SCORES:
        raise BadInput(f"At most {MAX_SCORES} scores, please: this is a pencil-and-paper sized example.")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise BadInput(f"Scores must be numbers separated by commas; could not read {shown(text)}.") from None
    if not all(math.isfinite(v) for v in values):
        raise BadInput("Scores must be finite numbers.")
    return values


def softmax(values: list[float], temperature: float = 1.0) -> list[float]:
    """exp(x / T) / sum exp(x / T), computed stably by subtracting the max first."""
    if temperature <= 0:
        best = max(values)
        winners = [v == best for v in values]
        return [w / sum(winners) for w in winners]
    scaled = [v / temperature for v in values]
    top = max(scaled)
    exps = [math.exp(v - top) for v in scaled]
    total = sum(exps)
    return [e / total for e in exps]


def softmax_table(scores_text: str, temperature: float) -> list[dict[str, float]]:
    """Rows of score, e^score, softmax at T=1 and at the chosen temperature."""
    temperature = number("Temperature", temperature, float)
    if not 0 <= temperature <= 5:
        raise BadInput(f"Temperature must be between 0 and 5, not {temperature}.")
    values = parse_scores(scores_text)
    at_one = softmax(values, 1.0)
    at_t = softmax(values, float(temperature))
    top = max(values)
    return [
        {
            "score": v,
            "exp(score - max)": round(math.exp(v - top), 6),
            "probability (T=1)": round(p1, 6),
            f"probability (T={float(temperature):g})": round(pt, 6),
        }
        for v, p1, pt in zip(values, at_one, at_t)
    ]
