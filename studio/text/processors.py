"""Per-step hooks into transformers' ``generate``: Stop, a die of the request's own, and the
record of how likely each chosen token was. Imported when a generation starts (torch)."""

from __future__ import annotations

import threading
from typing import Any

import torch
from transformers.generation.logits_process import LogitsProcessor
from transformers.generation.stopping_criteria import StoppingCriteria


class CancelCriteria(StoppingCriteria):
    """Stop at the next token once ``event`` is set (the Stop button, a closed stream)."""

    def __init__(self, event: threading.Event):
        self.event = event
        self.answers: dict[tuple, Any] = {}  # made once: this runs after every token

    def __call__(self, input_ids, scores, **kwargs):
        key = (input_ids.shape[0], input_ids.device, self.event.is_set())
        if key not in self.answers:
            self.answers[key] = torch.full(key[:1], key[2], dtype=torch.bool, device=key[1])
        return self.answers[key]


class ChoiceRecorder(LogitsProcessor):
    """Placed after the sampling warpers, so it sees the distribution the token is drawn
    from. Per step it keeps the best candidates and, one step later (once the choice is in
    ``input_ids``), the probability of the token chosen. All of it stays on the device until
    ``finish``: no per-token synchronisation. Only the top few are kept per step: the whole
    distribution of a 150k vocabulary is 600 kB a token."""

    def __init__(self, top_n: int):
        self.top_n = top_n
        self.scores = None  # this step's input, so the sampler can tell its probs are current
        self.probs = None
        self.chosen: list[Any] = []
        self.top_values: list[Any] = []
        self.top_ids: list[Any] = []

    def __call__(self, input_ids, scores):
        if self.probs is not None:
            self.chosen.append(self.probs[0, input_ids[0, -1]])
        self.scores = scores
        self.probs = torch.softmax(scores.float(), dim=-1)
        top = self.probs[0].topk(min(self.top_n, self.probs.shape[-1]))
        self.top_values.append(top.values)
        self.top_ids.append(top.indices)
        return scores

    def finish(self, last_token_id: int) -> tuple[list[float], list[list[float]], list[list[int]]]:
        """(probability of each chosen token, top probabilities, their token ids), per step."""
        if self.probs is not None:
            self.chosen.append(self.probs[0, last_token_id])
            self.probs = self.scores = None
        if not self.chosen:
            return [], [], []
        return (
            torch.stack(self.chosen).tolist(),
            torch.stack(self.top_values).tolist(),
            torch.stack(self.top_ids).tolist(),
        )


class SeededSampler(LogitsProcessor):
    """Rolls the die with this request's own generator, then leaves only the drawn token for
    generate's greedy pick. torch's global generator is shared by every request in the
    process, so with --concurrency above 1 seeding it would not make a reply repeatable.

    Placed right after the recorder, it reuses the softmax the recorder just computed."""

    def __init__(self, generator, recorder: ChoiceRecorder | None = None):
        self.generator = generator
        self.recorder = recorder

    def __call__(self, input_ids, scores):
        recorder = self.recorder
        if recorder is not None and recorder.scores is scores:
            probs = recorder.probs
        else:
            probs = torch.softmax(scores.float(), dim=-1)
        drawn = torch.multinomial(probs, 1, generator=self.generator)
        only_drawn = torch.full_like(scores, -float("inf"))
        return only_drawn.scatter_(1, drawn, 0.0)
