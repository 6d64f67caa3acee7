"""Fooocus V2, the classic expansion: GPT-2 continues the prompt, but may only write visual words.

A logits processor masks every token that is not part of an allowed word or phrase
(assets/prompts/visual_words.txt), a comma separator or end-of-text; it even follows the
phrases token by token, so the model can only add whole style, light and composition
phrases and nothing else. Fast, and needs no instruct model.

It lives with the image stack because the "Fooocus V2" style runs it for every image, seeded by
that image's seed (studio.image.image_texts); the Prompt tab's button reaches it through
studio.prompts.classic, which checks the user's text first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.text import adapters
from studio.text.generate import resolve_seed

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    import torch
    from transformers import PreTrainedTokenizerBase

    from studio.context import StudioContext

WORDS_FILE = Path(__file__).resolve().parents[2] / "assets" / "prompts" / "visual_words.txt"
CLASSIC_MODEL = "openai-community/gpt2"  # the "text" catalog entry's GPT-2 (its twin: "gpt2")
SEPARATORS = (",",)
MAX_NEW_TOKENS = 48
MAX_TEXT_CHARS = 2_000  # about 500 GPT-2 tokens: the prompt and its continuation fit its 1,024


@lru_cache(maxsize=1)
def visual_words() -> tuple[str, ...]:
    lines = WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(dict.fromkeys(w.strip().lower() for w in lines if w.strip() and not w.startswith("#")))


class PhraseTrie:
    """The allowed phrases as token sequences (each spelled with its leading space, as it
    follows a comma). Walking it tells which tokens may come next: the model can only
    finish a phrase it started, then write a comma or end."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, words: tuple[str, ...] = ()):
        self.root: dict = {}
        for phrase in words or visual_words():
            node = self.root
            for token_id in tokenizer(" " + phrase, add_special_tokens=False)["input_ids"]:
                node = node.setdefault(token_id, {})
            node[None] = True  # a whole phrase ends here
        self.separators = {i for s in SEPARATORS for i in tokenizer(s, add_special_tokens=False)["input_ids"]}
        self.eos = tokenizer.eos_token_id

    def allowed_ids(self) -> set[int]:
        """Every token the processor can ever let through."""
        ids, stack = set(self.separators), [self.root]
        while stack:
            node = stack.pop()
            ids.update(k for k in node if k is not None)
            stack.extend(v for k, v in node.items() if k is not None)
        return ids | ({self.eos} if self.eos is not None else set())

    def next_ids(self, since_separator: list[int]) -> list[int]:
        node = self.root
        for token_id in since_separator:
            node = node.get(token_id)
            if node is None:  # cannot happen under the mask; start over rather than fail
                return list(self.root)
        nxt = [k for k in node if k is not None]
        if None in node or not since_separator:
            nxt += sorted(self.separators) if since_separator else []
            if self.eos is not None:
                nxt.append(self.eos)
        return nxt


def allowed_token_ids(tokenizer: PreTrainedTokenizerBase, words: tuple[str, ...] = ()) -> set[int]:
    """Token ids that spell part of an allowed phrase, the separators and end-of-text."""
    return PhraseTrie(tokenizer, words).allowed_ids()


def _processor_class():
    import torch
    from transformers.generation.logits_process import LogitsProcessor

    class VisualWordsOnly(LogitsProcessor):
        """Masks every token that does not continue an allowed phrase (or separate two), then
        draws with this request's own generator (the same seed gives the same words) and
        leaves only the drawn token for generate's greedy pick."""

        def __init__(self, trie: PhraseTrie, prompt_length: int, temperature: float, generator: torch.Generator):
            self.trie = trie
            self.prompt_length = prompt_length
            self.temperature = temperature
            self.generator = generator

        def __call__(self, input_ids, scores):
            written = input_ids[0, self.prompt_length:].tolist()
            last_separator = max((i for i, t in enumerate(written) if t in self.trie.separators), default=-1)
            allowed = [i for i in self.trie.next_ids(written[last_separator + 1:]) if i < scores.shape[-1]]
            masked = torch.full_like(scores, -float("inf"), dtype=torch.float32)
            masked[:, allowed] = scores[:, allowed].float()
            if not torch.isfinite(masked).any():
                # The repetition rules banned every allowed token: end the list here.
                end = self.trie.eos if self.trie.eos is not None else min(self.trie.separators)
                masked[:, end] = 0.0
            if self.temperature <= 0:
                drawn = masked.argmax(-1, keepdim=True)
            else:
                probs = torch.softmax(masked / self.temperature, dim=-1)
                drawn = torch.multinomial(probs, 1, generator=self.generator)
            return torch.full_like(scores, -float("inf")).scatter_(1, drawn, 0.0)

    return torch, VisualWordsOnly


@dataclass
class ClassicResult:
    prompt: str  # the text with the added phrases
    added: list[str]  # whole allowed phrases that were added
    generated_ids: list[int]  # what the model wrote, token by token
    seed: int
    notes: list[str] = field(default_factory=list)


def added_phrases(generated: str, text: str) -> list[str]:
    """Whole allowed phrases from the continuation, once each, none already in the text."""
    allowed = set(visual_words())
    present = {p.strip().lower() for p in text.split(",")}
    found: list[str] = []
    for piece in re.split(r",", generated):
        phrase = " ".join(piece.split()).lower()
        if phrase in allowed and phrase not in present and phrase not in found:
            found.append(phrase)
    return found


def expand(
    studio: StudioContext, text: str, temperature: float = 0.9, seed: Any = -1,
    max_new_tokens: int = MAX_NEW_TOKENS, model_id: str = CLASSIC_MODEL,
) -> ClassicResult:
    """``text`` (not empty: the caller checks it) followed by visual words that GPT-2 picks (only
    from the allowed list)."""
    text = text.strip()
    seed = resolve_seed(seed)
    torch, VisualWordsOnly = _processor_class()
    from transformers.generation.logits_process import LogitsProcessorList

    spec = studio.spec("text", model_id)
    with adapters.using(studio, spec) as text_model:  # the plain model, whatever adapter others use
        model, tokenizer = text_model.model, text_model.tokenizer
        ids = tokenizer(text.rstrip().rstrip(",") + ",", add_special_tokens=False)["input_ids"]
        input_ids = torch.tensor([ids], device=model.device)
        generator = torch.Generator(device=model.device).manual_seed(seed)
        processor = VisualWordsOnly(PhraseTrie(tokenizer), len(ids), float(temperature), generator)

        def run():
            with torch.inference_mode():
                return model.generate(
                    input_ids, attention_mask=torch.ones_like(input_ids), do_sample=False,
                    max_new_tokens=max_new_tokens, logits_processor=LogitsProcessorList([processor]),
                    pad_token_id=tokenizer.pad_token_id, no_repeat_ngram_size=3,
                )

        output = studio.cache.run(run)
        new_ids = output[0, len(ids):].tolist()
        generated = tokenizer.decode(new_ids, skip_special_tokens=True)
    added = added_phrases(generated, text)
    notes = [] if added else ["The model added no complete visual phrase this time; try another seed."]
    prompt = ", ".join([text.rstrip().rstrip(",")] + added)
    return ClassicResult(prompt, added, new_ids, seed, notes)
