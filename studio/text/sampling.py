"""Sampling settings: one validated object shared by the UI, the API, generation and the explorer.

Presets set every knob at once; ``generate_kwargs`` turns the settings into arguments of
``transformers`` ``model.generate`` (the warpers themselves come from ``filtering``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from studio.errors import BadInput
from studio.text.limits import (
    MAX_NUMBER_CHARS,
    MAX_STOP_STRING_CHARS,
    MAX_STOP_STRINGS,
    MAX_STOP_STRINGS_TEXT_CHARS,
    shown,
)

DECODING = ("greedy", "sample", "beam")
MAX_NEW_TOKENS = 4096
MAX_BEAMS = 8
STOP_STRINGS_RULE = (
    f"at most {MAX_STOP_STRINGS} stop strings, one per line, each at most {MAX_STOP_STRING_CHARS} characters"
)


def parse_stop_strings(text: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """One stop string per line (a list is taken as is); blank lines are ignored."""
    if text is None:
        return ()
    if isinstance(text, str) and len(text) > MAX_STOP_STRINGS_TEXT_CHARS:
        raise BadInput(f"The stop strings box has {len(text):,} characters; allowed are {STOP_STRINGS_RULE}.")
    items = text.splitlines() if isinstance(text, str) else list(text)
    return tuple(s for s in (str(i) for i in items) if s.strip())


def check_stop_strings(stops: tuple[str, ...]) -> tuple[str, ...]:
    """Each stop string is matched against every vocabulary entry when generation starts,
    so a long one costs minutes: keep them few and short."""
    if len(stops) > MAX_STOP_STRINGS:
        raise BadInput(f"Got {len(stops):,} stop strings; allowed are {STOP_STRINGS_RULE}.")
    for stop in stops:
        if len(stop) > MAX_STOP_STRING_CHARS:
            raise BadInput(f"A stop string has {len(stop):,} characters; allowed are {STOP_STRINGS_RULE}.")
    return stops


@dataclass(frozen=True)
class SamplingSettings:
    """How the next token is chosen. 0 (or 1.0 for the *_p knobs) means "off"."""

    decoding: str = "sample"  # greedy | sample | beam
    temperature: float = 0.7
    top_k: int = 50
    top_p: float = 0.9
    min_p: float = 0.0
    typical_p: float = 1.0
    repetition_penalty: float = 1.1
    no_repeat_ngram_size: int = 0
    num_beams: int = 1
    max_new_tokens: int = 128
    stop_strings: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        # The UI gives stop strings as one text, one per line; keep them as a tuple.
        object.__setattr__(self, "stop_strings", parse_stop_strings(self.stop_strings))

    @property
    def samples(self) -> bool:
        """True when a die is rolled; temperature 0 means "always the most likely token"."""
        return self.decoding == "sample" and self.temperature > 0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["stop_strings"] = list(self.stop_strings)
        return data


PRESETS: dict[str, SamplingSettings] = {
    # Always the most likely token: the same prompt gives the same text, seed or not.
    "Deterministic": SamplingSettings(
        decoding="greedy", temperature=0.0, top_k=0, top_p=1.0, min_p=0.0, repetition_penalty=1.1
    ),
    "Balanced": SamplingSettings(decoding="sample", temperature=0.7, top_k=50, top_p=0.9, min_p=0.0),
    # Flatter distribution and a wider nucleus; min-p keeps the worst of the tail out.
    "Creative": SamplingSettings(
        decoding="sample", temperature=1.2, top_k=0, top_p=0.98, min_p=0.05, repetition_penalty=1.15
    ),
}


def number(name: str, value: Any, kind: type) -> Any:
    """``value`` as ``kind`` (int or float); scripts may send numbers as text."""
    not_a_number = BadInput(f"{name} must be a number, not {shown(value)}.")
    if isinstance(value, bool) or value is None or (isinstance(value, str) and len(value) > MAX_NUMBER_CHARS):
        raise not_a_number
    try:
        real = float(value)
    except (TypeError, ValueError, OverflowError):
        raise not_a_number from None
    if real != real or real in (float("inf"), float("-inf")):
        raise BadInput(f"{name} must be a finite number, not {shown(value)}.")
    if kind is int and not real.is_integer():
        raise BadInput(f"{name} must be a whole number, not {shown(value)}.")
    return int(real) if kind is int else real


def validate(settings: SamplingSettings) -> SamplingSettings:
    """The same settings with numbers coerced, or BadInput naming the knob and its range."""
    s = settings
    decoding = str(s.decoding).strip().lower()
    if decoding not in DECODING:
        raise BadInput(f"Decoding must be one of {', '.join(DECODING)}, not {shown(s.decoding)}.")
    temperature = number("Temperature", s.temperature, float)
    top_k = number("Top-k", s.top_k, int)
    top_p = number("Top-p", s.top_p, float)
    min_p = number("Min-p", s.min_p, float)
    typical_p = number("Typical-p", s.typical_p, float)
    repetition_penalty = number("Repetition penalty", s.repetition_penalty, float)
    no_repeat = number("No-repeat n-gram size", s.no_repeat_ngram_size, int)
    num_beams = number("Number of beams", s.num_beams, int)
    max_new_tokens = number("Max new tokens", s.max_new_tokens, int)
    checks = [
        (0 <= temperature <= 5, f"Temperature must be between 0 and 5 (0 = greedy), not {temperature}."),
        (top_k >= 0, f"Top-k must be 0 (off) or a positive whole number, not {top_k}."),
        (0 < top_p <= 1, f"Top-p must be in (0, 1]: above 0 and at most 1 (1 = off), not {top_p}."),
        (0 <= min_p < 1, f"Min-p must be in [0, 1) (0 = off), not {min_p}."),
        (0 < typical_p <= 1, f"Typical-p must be in (0, 1] (1 = off), not {typical_p}."),
        (0 < repetition_penalty <= 10, f"Repetition penalty must be above 0 and at most 10 (1 = off), not {repetition_penalty}."),
        (0 <= no_repeat <= 20, f"No-repeat n-gram size must be between 0 (off) and 20, not {no_repeat}."),
        (1 <= num_beams <= MAX_BEAMS, f"Number of beams must be between 1 and {MAX_BEAMS}, not {num_beams}."),
        (
            1 <= max_new_tokens <= MAX_NEW_TOKENS,
            f"Max new tokens must be between 1 and {MAX_NEW_TOKENS}, not {max_new_tokens}.",
        ),
    ]
    for ok, message in checks:
        if not ok:
            raise BadInput(message)
    stops = check_stop_strings(s.stop_strings)
    return replace(
        s,
        decoding=decoding,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        min_p=min_p,
        typical_p=typical_p,
        repetition_penalty=repetition_penalty,
        no_repeat_ngram_size=no_repeat,
        num_beams=num_beams if decoding == "beam" else 1,
        max_new_tokens=max_new_tokens,
        stop_strings=stops,
    )


def preset(name: str) -> SamplingSettings:
    try:
        return PRESETS[name]
    except KeyError:
        raise BadInput(f"Unknown preset {shown(name)}; pick one of {', '.join(PRESETS)}.") from None


def generate_kwargs(settings: SamplingSettings) -> dict[str, Any]:
    """Arguments for ``model.generate`` (stop strings become a stopping criterion, built by
    the caller from the tokenizer). transformers' own warpers are switched off here
    because ``filtering.sampling_warpers`` passes the same warpers explicitly: that way a
    recorder placed after them sees the exact distribution the die is rolled on."""
    kwargs: dict[str, Any] = {
        "max_new_tokens": settings.max_new_tokens,
        "do_sample": settings.samples,
        "num_beams": settings.num_beams if settings.decoding == "beam" else 1,
        "repetition_penalty": settings.repetition_penalty,
        "no_repeat_ngram_size": settings.no_repeat_ngram_size,
    }
    if settings.samples:
        # Off: see docstring. Also overrides a model's generation_config.json defaults.
        kwargs.update(temperature=1.0, top_k=0, top_p=1.0, min_p=None, typical_p=1.0)
    return kwargs
