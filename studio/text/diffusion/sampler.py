"""The step loop of masked-diffusion sampling, over any forward function.

Each step is one pass of the bidirectional model over the whole sequence (prompt, answer, and
whatever follows it); the current block's masked positions get a token each, and the step
keeps as many as the schedule says, remasking the rest. Later blocks stay masked until the
current one is complete. The loop knows nothing of caches, tokenizers or chat templates, so
tests drive it with logits they control and the benchmark times it against a bare pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterator

from studio.text.diffusion.schedule import Block
from studio.text.diffusion.selection import choose_tokens, positions_to_keep

if TYPE_CHECKING:
    import torch

Forward = Callable[["torch.Tensor"], "torch.Tensor"]  # ids (1, T) -> logits (1, T, vocabulary)


@dataclass
class StepChoice:
    """What one step unmasked, in the order chosen (answer positions, not sequence positions)."""

    block: int
    positions: list[int]
    token_ids: list[int]
    confidences: list[float]


def denoise(
    forward: Forward,
    sequence: torch.Tensor,
    answer_start: int,
    mask_id: int,
    blocks: list[Block],
    remasking: str,
    temperature: float,
    generator: torch.Generator | None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Iterator[StepChoice]:
    """Unmask the answer in ``sequence`` (1, T) in place, block by block; one ``StepChoice`` per
    forward pass. ``should_stop`` is asked before every pass, so a Stop ends the loop within a step."""
    import torch

    for index, block in enumerate(blocks):
        low, high = answer_start + block.start, answer_start + block.stop
        for count in block.unmask_counts():
            if should_stop():
                return
            # Per step, not around the loop: a suspended generator must not leave the thread
            # it ran on in inference mode.
            with torch.inference_mode():
                logits = forward(sequence)
                masked = (sequence[0, low:high] == mask_id).nonzero().squeeze(-1)
                tokens, confidences = choose_tokens(logits[0, low:high][masked], temperature, generator)
                kept = positions_to_keep(confidences, count, remasking, generator)
                offsets, tokens = masked[kept], tokens[kept]
                sequence[0, low + offsets] = tokens
            yield StepChoice(index, (block.start + offsets).tolist(), tokens.tolist(), confidences[kept].tolist())
