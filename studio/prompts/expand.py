"""Expand an idea (any language, Traditional Chinese first) into an English image prompt
and a negative prompt, with the Text tab's own generation function and model.

The local backend uses the "text" catalog entry through the shared cache, so the Text
tab's model is reused, never loaded twice; an OpenAI-compatible endpoint works too. When
the model fails or answers junk, the original text comes back with a note saying why.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from studio.errors import BadInput, ModelUnavailable, StudioError
from studio.prompts import clip_window, instructions
from studio.prompts.language import Language, detect
from studio.prompts.parse import parse_reply
from studio.text import service
from studio.text.generate import MAX_SEED, check_model_id, resolve_seed
from studio.text.remote import RemoteEndpoint
from studio.text.results import GenerationRequest
from studio.text.sampling import SamplingSettings

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from transformers import PreTrainedTokenizerBase

    from studio.context import StudioContext

MAX_INPUT_CHARS = 2_000  # an idea for one picture; a pasted document is a mistake
MAX_VARIANTS = 4
KEPT_ENGLISH = "The text is already English, so it was kept as it is (the LLM was not asked)."
NO_PROMPT = "The model's reply held no usable English prompt, so the original text is kept. Reply: {reply}"
FAILED = "The model could not expand the prompt ({error}), so the original text is kept."
NO_TOKENIZER = "CLIP tokens were not counted: SDXL's tokenizer could not be loaded (offline?)."


@dataclass(frozen=True)
class ExpandOptions:
    length: str = "medium"  # short | medium | rich
    target: str = "sdxl"  # sdxl: comma-separated tags | zimage: natural sentences
    temperature: float = 0.7  # 0: always the most likely words
    seed: int = -1  # -1: a random one, reported back; variant i uses seed + i
    variants: int = 1
    keep_english: bool = True  # English input is used as it is
    trim: bool = False  # cut to CLIP's 77 tokens at a comma
    model_id: str | None = None  # None: the Text tab's default model


@dataclass
class Expansion:
    prompt: str
    negative: str
    tokens: int  # CLIP tokens of ``prompt``, start and end marks included (0: not counted)
    seed: int | None
    expanded: bool  # False: the original text (kept, or a fallback)
    notes: list[str] = field(default_factory=list)
    reply: str = ""  # the model's raw reply

    def summary(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt, "negative_prompt": self.negative, "clip_tokens": self.tokens,
            "seed": self.seed, "expanded": self.expanded, "notes": self.notes,
        }


@dataclass
class ExpandResult:
    original: str
    language: Language
    variants: list[Expansion]

    @property
    def best(self) -> Expansion:
        """The first real expansion, else the first variant (the original text)."""
        return next((v for v in self.variants if v.expanded), self.variants[0])


def check_text(text: Any) -> str:
    value = "" if text is None else str(text)
    if not value.strip():
        raise BadInput("Type an idea for a picture first (any language): the text is empty.")
    if len(value) > MAX_INPUT_CHARS:
        raise BadInput(
            f"The text has {len(value):,} characters; an idea for one picture needs at most {MAX_INPUT_CHARS:,}. "
            "Shorten it to the subject and the look you want."
        )
    return value.strip()


def checked(options: ExpandOptions) -> ExpandOptions:
    try:
        variants = int(options.variants)
        temperature = float(options.temperature)
    except (TypeError, ValueError, OverflowError):
        raise BadInput("Variants must be a whole number and temperature a number.") from None
    if not 1 <= variants <= MAX_VARIANTS:
        raise BadInput(f"Variants must be between 1 and {MAX_VARIANTS}, not {variants}.")
    if not 0 <= temperature <= 2:
        raise BadInput(f"Temperature must be between 0 and 2, not {temperature:g}.")
    return replace(
        options,
        length=instructions.check_length(options.length),
        target=instructions.check_target(options.target),
        temperature=temperature,
        variants=variants,
        seed=resolve_seed(options.seed),
        model_id=check_model_id(options.model_id),
    )


def generation_request(text: str, options: ExpandOptions, seed: int) -> GenerationRequest:
    """A chat request for the Text tab's generation function, with our system prompt."""
    settings = SamplingSettings(
        decoding="sample" if options.temperature > 0 else "greedy",
        temperature=options.temperature,
        top_k=50,
        top_p=0.95,
        repetition_penalty=1.05,
        max_new_tokens=instructions.max_new_tokens(options.length),
    )
    return GenerationRequest(
        prompt=instructions.user_message(text),
        mode="chat",
        model_id=options.model_id,
        system_prompt=instructions.system_prompt(options.length, options.target),
        settings=settings,
        seed=seed,
    )


def _finish(tokenizer: PreTrainedTokenizerBase | None, expansion: Expansion, trim: bool) -> Expansion:
    if tokenizer is None:  # counting is a help, not a reason to fail
        expansion.notes.append(NO_TOKENIZER)
        return expansion
    if trim:
        cut = clip_window.trim(tokenizer, expansion.prompt)
        if cut.trimmed:
            expansion.notes.append(
                f"Trimmed from {cut.original_tokens} to {cut.tokens} CLIP tokens at a comma; dropped: {cut.dropped[:120]}"
            )
            expansion.prompt = cut.text
    expansion.tokens = clip_window.count(tokenizer, expansion.prompt)
    return expansion


def expand(
    studio: StudioContext, text: Any, options: ExpandOptions = ExpandOptions(),
    endpoint: RemoteEndpoint | None = None, cancel: threading.Event | None = None,
) -> ExpandResult:
    """``options.variants`` expansions of ``text`` (variant i with seed + i)."""
    text = check_text(text)
    options = checked(options)
    language = detect(text)
    try:
        tokenizer = clip_window.clip_tokenizer(studio)
    except ModelUnavailable:  # e.g. offline without SDXL's tokenizer in the cache
        tokenizer = None
    negative = instructions.NEGATIVE[options.target]
    if language.is_english and options.keep_english:
        kept = Expansion(text, negative, 0, None, False, [KEPT_ENGLISH])
        return ExpandResult(text, language, [_finish(tokenizer, kept, options.trim)])
    variants: list[Expansion] = []
    failure = ""
    for index in range(options.variants):
        seed = min(options.seed + index, MAX_SEED)
        if failure:  # the backend is down: asking again only makes the student wait
            variants.append(_finish(tokenizer, Expansion(text, negative, 0, seed, False, [failure]), options.trim))
            continue
        request = generation_request(text, options, seed)
        try:
            reply = service.run_generation(studio, request, endpoint, cancel).text
        except BadInput:
            raise
        except StudioError as exc:
            failure = FAILED.format(error=str(exc).rstrip("."))
            variants.append(_finish(tokenizer, Expansion(text, negative, 0, seed, False, [failure]), options.trim))
            continue
        parsed = parse_reply(reply)
        if parsed is None:
            shown = "".join(c if c.isprintable() else " " for c in reply.strip())[:80] or "(empty)"
            expansion = Expansion(text, negative, 0, seed, False, [NO_PROMPT.format(reply=shown)], reply)
        else:
            expansion = Expansion(parsed.positive, parsed.negative or negative, 0, seed, True, [], reply)
        variants.append(_finish(tokenizer, expansion, options.trim))
    return ExpandResult(text, language, variants)
