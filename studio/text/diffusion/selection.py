"""One step's choices: a token for each masked position, then which of them to keep.

Temperature 0 takes the most likely token; above 0 one is drawn from the softmax of
``logits / temperature`` with the request's own generator (so a seed reproduces the text).
A position's confidence is the model's probability of the token picked there (the softmax
of the raw logits, as LLaDA's low-confidence remasking reads it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported by the caller's first use, not when the studio starts
    import torch

REMASKING_RULES = ("low_confidence", "random")


def choose_tokens(
    logits: torch.Tensor, temperature: float, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """For each row of ``logits`` (one masked position each): the token picked and its confidence."""
    import torch

    logits = logits.float()
    probabilities = torch.softmax(logits, dim=-1)
    if temperature > 0:
        tempered = torch.softmax(logits / temperature, dim=-1)
        tokens = torch.multinomial(tempered, 1, generator=generator).squeeze(-1)
    else:
        tokens = probabilities.argmax(dim=-1)
    return tokens, probabilities.gather(-1, tokens[:, None]).squeeze(-1)


def positions_to_keep(
    confidences: torch.Tensor, count: int, rule: str, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Indices (into ``confidences``) of the ``count`` predictions to unmask now, in the order
    chosen; the rest are remasked. low_confidence keeps the most confident, random any."""
    import torch

    if rule == "low_confidence":
        scores = confidences
    elif rule == "random":
        device = generator.device if generator is not None else confidences.device
        scores = torch.rand(confidences.shape, generator=generator, device=device).to(confidences.device)
    else:
        raise ValueError(f"remasking rule must be one of {REMASKING_RULES}, not {rule!r}")
    return scores.topk(min(count, scores.numel())).indices
