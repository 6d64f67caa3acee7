"""Which positions a step may unmask, and how many: semi-autoregressive blocks, LLaDA's spread.

The answer is cut into blocks of ``block_length`` tokens (the last may be shorter), filled left
to right: a block's positions are unmasked only once every earlier block is complete. The steps
are shared among the blocks in proportion to their size (each block gets at least one step and
never more steps than tokens), and inside a block each step unmasks the same number of tokens,
the first steps taking one more when the division leaves a remainder.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Block:
    """Answer positions ``start <= i < stop``, unmasked over ``steps`` steps."""

    start: int
    stop: int
    steps: int

    @property
    def size(self) -> int:
        return self.stop - self.start

    def unmask_counts(self) -> list[int]:
        return unmask_counts(self.size, self.steps)


def block_count(length: int, block_length: int) -> int:
    return -(-length // block_length)


def unmask_counts(size: int, steps: int) -> list[int]:
    """Tokens unmasked at each of ``steps`` steps to clear ``size`` masks: as even as possible."""
    if not 1 <= steps <= size:
        raise ValueError(f"{steps} steps cannot clear {size} masks, one or more per step")
    base, extra = divmod(size, steps)
    return [base + 1 if i < extra else base for i in range(steps)]


def share_steps(sizes: list[int], steps: int) -> list[int]:
    """Steps per block: one each, then one at a time to the block with the most tokens per step
    (the earliest on a tie), so the pace is as even as the sizes allow."""
    if not len(sizes) <= steps <= sum(sizes):
        raise ValueError(f"{steps} steps cannot fill {len(sizes)} blocks of {sum(sizes)} tokens")
    shares = [1] * len(sizes)
    for _ in range(steps - len(sizes)):
        open_blocks = [i for i, size in enumerate(sizes) if shares[i] < size]
        busiest = max(open_blocks, key=lambda i: (sizes[i] / shares[i], -i))
        shares[busiest] += 1
    return shares


def plan_blocks(length: int, block_length: int, steps: int) -> list[Block]:
    """The blocks of a ``length``-token answer (checked request values: see ``request``)."""
    starts = range(0, length, block_length)
    sizes = [min(block_length, length - start) for start in starts]
    return [
        Block(start, start + size, share)
        for start, size, share in zip(starts, sizes, share_steps(sizes, steps))
    ]
