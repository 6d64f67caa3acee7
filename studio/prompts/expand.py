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
from studio.models import catalog
from studio.prompts import clip_window, instructions
from studio.prompts.language import Language, detect
from studio.prompts.parse import parse_reply
from studio.text import service
from studio.text.generate import MAX_SEED, check_model_id, resolve_seed
from studio.text.remote import RemoteEndpoint
from studio.text.results import GenerationRequest
from studio.text.sampling import SamplingSettings
from studio.tools import fields
from studio.tools.fields import declared

if TYPE_CHECKING:  # the context is passed in; importing it is for type checkers only
    from transformers import PreTrainedTokenizerBase

    from studio.context import StudioContext

MAX_INPUT_CHARS = 2_000  # an idea for one picture; a pasted document is a mistake
MAX_VARIANTS = 4
KEPT_ENGLISH = "The text is already English, so it was kept as it is (the LLM was not asked)."
NO_PROMPT = "The model's reply held no usable English prompt, so the original text is kept. Reply: {reply}"
FAILED = "The model could not expand the prompt ({error}), so the original text is kept."
NO_TOKENIZER = "CLIP tokens were not counted: SDXL's tokenizer could not be loaded (offline?)."


def _text_models(settings: Any) -> list[str]:
    return catalog.choices(settings, "text") if settings is not None else []


@dataclass(frozen=True)
class ExpandOptions:
    """How an idea is expanded, declared once (studio.tools.fields): the Prompt tab's options,
    /expand_prompt's parameters and their checks all read these fields."""

    length: str = declared("medium", choices=tuple(instructions.LENGTHS), choice_labels="prompt.length",
                           hint="radio", label="prompt.length", doc="how many words the prompt has")
    target: str = declared("sdxl", choices=instructions.TARGETS, choice_labels="prompt.target", hint="radio",
                           aliases={"z-image": "zimage", "zimageturbo": "zimage", "z-image-turbo": "zimage",
                                    "sd15": "sdxl"},
                           label="prompt.target", doc="sdxl: comma-separated tags | zimage: natural sentences")
    temperature: float = declared(0.7, low=0, high=2, step=0.05, label="prompt.temperature",
                                  doc="0 = always the most likely words")
    seed: int = declared(-1, low=-1, high=MAX_SEED, hint="number", label="prompt.seed",
                         doc="-1 = random, reported back; variant i uses seed + i")
    variants: int = declared(1, low=1, high=MAX_VARIANTS, step=1, label="prompt.variants")
    keep_english: bool = declared(True, label="prompt.keep_english", doc="English text is returned as it is")
    trim: bool = declared(False, api="trim_to_77_tokens", label="prompt.trim", doc="cut to CLIP's 77 tokens at a comma")
    # '' (None once checked): the Text tab's default model.
    model_id: str | None = declared("", choices=_text_models, custom=True, hint="dropdown", label="prompt.model",
                                    doc="'' = the Text tab's default LLM, a catalog id or a Hub id")


@dataclass(frozen=True)
class ExpandRequest:
    """/expand_prompt, declared once: the idea, how it is expanded, and which LLM answers."""

    text: str = declared(label="prompt.input", hint="lines:3", placeholder="prompt.input_placeholder",
                         doc="an idea for a picture, in any language")
    options: ExpandOptions = declared(default_factory=ExpandOptions, kind="group")
    remote: service.RemoteChoice = declared(default_factory=service.RemoteChoice, kind="group")


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
    """The declared ranges and choices, then the seed drawn and the model id tidied."""
    options = fields.checked(options)
    return replace(options, seed=resolve_seed(options.seed), model_id=check_model_id(options.model_id))


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
        model_id=options.model_id or None,  # "" = the default model
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
