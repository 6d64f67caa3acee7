"""Text -> tokens: ids, pieces, bytes, chips that rebuild the text exactly, counts, round trip."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from studio.context import StudioContext
from studio.errors import BadInput
from studio.tokens import byte_pieces
from studio.tokens.clip_limit import CLIP_TOKENIZER_ID, WindowCut, window_cut
from studio.tokens.sources import tokenizer_spec

MAX_CHARS = 200_000  # a book chapter; 1 MB of text is refused with a clear message
MAX_COMPARE = 4
# transformers puts a huge placeholder in model_max_length when a tokenizer has no limit.
NO_LIMIT = 10_000_000


@dataclass(slots=True)
class TokenInfo:
    index: int
    id: int
    piece: str  # the tokenizer's own spelling, e.g. "Ġworld" or "##able"
    start: int  # character offsets of the text this token covers
    end: int
    special: bool
    template: bool  # added by the tokenizer around the text ([CLS], <|startoftext|>...)
    bytes_hex: str  # the UTF-8 bytes it stands for ("" when the tokenizer is not byte-based)
    partial: bool  # only part of a character: its bytes are not valid UTF-8 alone


@dataclass(slots=True)
class Chip:
    """A slice of the input. ``tokens`` empty: text the tokenizer skipped (e.g. spaces in BERT)."""

    text: str
    tokens: list[int]


@dataclass
class TokenView:
    tokenizer: str
    text: str
    tokens: list[TokenInfo]
    chips: list[Chip]
    byte_scheme: str
    context_window: int | None
    decoded: str
    window: WindowCut | None = None
    clip: WindowCut | None = None  # the CLIP 77-token cut, when asked for

    @property
    def ids(self) -> list[int]:
        return [t.id for t in self.tokens]

    @property
    def round_trip_ok(self) -> bool:
        return self.decoded == self.text

    def first_difference(self) -> int | None:
        if self.round_trip_ok:
            return None
        for i, (a, b) in enumerate(zip(self.text, self.decoded)):
            if a != b:
                return i
        return min(len(self.text), len(self.decoded))

    def counts(self) -> dict[str, Any]:
        text_tokens = sum(1 for t in self.tokens if not t.template)
        share = len(self.tokens) / self.context_window if self.context_window else None
        return {
            "characters": len(self.text),
            "utf8_bytes": len(self.text.encode("utf-8")),
            "tokens": len(self.tokens),
            "text_tokens": text_tokens,
            "special_tokens": sum(1 for t in self.tokens if t.special),
            "partial_byte_tokens": sum(1 for t in self.tokens if t.partial),
            "chars_per_token": round(len(self.text) / text_tokens, 3) if text_tokens else None,
            "context_window": self.context_window,
            "context_share": round(share, 5) if share is not None else None,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "tokenizer": self.tokenizer,
            "counts": self.counts(),
            "ids": self.ids,
            "tokens": [{**asdict(t), "text": self.text[t.start:t.end]} for t in self.tokens],
            "chips": [{"text": c.text, "tokens": c.tokens} for c in self.chips],
            "byte_scheme": self.byte_scheme,
            "round_trip": {
                "ok": self.round_trip_ok,
                "decoded": self.decoded,
                "first_difference": self.first_difference(),
            },
            "window": self.window.as_dict() if self.window else None,
            "clip": self.clip.as_dict() if self.clip else None,
        }


def check_text(text: str | None, allow_empty: bool = False) -> str:
    text = text or ""
    if not text and not allow_empty:
        raise BadInput("Type or paste some text to tokenize first.")
    if len(text) > MAX_CHARS:
        raise BadInput(
            f"The text has {len(text):,} characters; the visualiser takes at most {MAX_CHARS:,}. "
            "Paste a shorter part (a chapter rather than the whole book)."
        )
    return text


def _context_window(tokenizer: Any) -> int | None:
    limit = getattr(tokenizer, "model_max_length", None)
    return int(limit) if isinstance(limit, int) and 0 < limit < NO_LIMIT else None


def _chips(text: str, starts: list[int], ends: list[int]) -> list[Chip]:
    """Slices of ``text`` in order, each with the tokens that cover it; gaps kept as-is,
    so the chips' texts always join back to exactly the input."""
    chips: list[Chip] = []
    cursor = 0
    for group in byte_pieces.group_spans(starts, ends):
        first = group[0]
        if ends[first] <= starts[first]:  # a token with no text of its own
            chips.append(Chip("", group))
            continue
        start = max(starts[first], cursor)
        end = max(cursor, ends[group[-1]] if len(group) == 1 else max(ends[i] for i in group))
        if start > cursor:
            chips.append(Chip(text[cursor:start], []))
        chips.append(Chip(text[start:end], group))
        cursor = end
    if cursor < len(text):
        chips.append(Chip(text[cursor:], []))
    return chips


def _encode(tokenizer: Any, text: str) -> tuple[list[int], list[str], list[tuple[int, int]]]:
    """Ids, token strings and character offsets, as ``tokenizer(text)`` would give them.

    The Rust encoding is read directly when the tokenizer has no truncation or padding
    configured: transformers' conversion of 100k offsets costs more than the encoding."""
    backend = tokenizer.backend_tokenizer
    if backend.truncation is None and backend.padding is None:
        encoding = backend.encode(text, add_special_tokens=True)
        return encoding.ids, encoding.tokens, encoding.offsets
    encoding = tokenizer(text, return_offsets_mapping=True, add_special_tokens=True, verbose=False)
    ids = encoding["input_ids"]
    return ids, tokenizer.convert_ids_to_tokens(ids), encoding["offset_mapping"]


def build_view(tokenizer: Any, text: str, name: str) -> TokenView:
    """Tokenize ``text`` with a loaded tokenizer and build everything the tab shows."""
    if not getattr(tokenizer, "is_fast", False):
        raise BadInput(
            f"{name} has no fast (Rust) tokenizer, so where each token sits in the text is unknown. "
            "Pick another tokenizer."
        )
    ids, pieces, offsets = _encode(tokenizer, text)
    special_ids = set(tokenizer.all_special_ids)
    reader = byte_pieces.reader_for(tokenizer)
    byte_info: dict[int, tuple[str, bool]] = {}  # per id: texts repeat their tokens a lot
    starts, ends = [s for s, _ in offsets], [e for _, e in offsets]
    tokens = []
    for index, (token_id, piece, start, end) in enumerate(zip(ids, pieces, starts, ends)):
        special = token_id in special_ids
        info = byte_info.get(token_id)
        if info is None:
            data = reader.token_bytes(piece, special)
            info = byte_info[token_id] = (byte_pieces.hex_bytes(data), byte_pieces.is_partial(data))
        tokens.append(TokenInfo(index, token_id, piece, start, end, special, special and start == end, *info))
    text_ids = [t.id for t in tokens if not t.template]
    decoded = tokenizer.decode(text_ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)
    window = _context_window(tokenizer)
    view = TokenView(
        tokenizer=name, text=text, tokens=tokens, chips=_chips(text, starts, ends),
        byte_scheme=reader.scheme, context_window=window, decoded=decoded,
    )
    if window:
        starts = [t.start for t in tokens if not t.template]
        view.window = window_cut(text, starts, len(tokens) - len(starts), window)
    return view


def tokenize(studio: StudioContext, text: str, tokenizer: str | None = None, clip_check: bool = False) -> TokenView:
    """Tokenize through the shared cache; ``clip_check`` also measures the CLIP 77-token cut."""
    text = check_text(text)
    spec = tokenizer_spec(studio, tokenizer)
    with studio.cache.use(spec) as loaded:
        view = build_view(loaded, text, (tokenizer or "").strip() or spec.source)
    if clip_check:
        with studio.cache.use(tokenizer_spec(studio, CLIP_TOKENIZER_ID)) as clip:
            view.clip = build_view(clip, text, CLIP_TOKENIZER_ID).window
    return view


def compare(studio: StudioContext, text: str, tokenizers: list[str]) -> list[TokenView]:
    """The same text through two to four tokenizers."""
    names = [name.strip() for name in tokenizers or [] if name and name.strip()]
    names = list(dict.fromkeys(names))
    if not 2 <= len(names) <= MAX_COMPARE:
        raise BadInput(f"Pick two to four different tokenizers to compare (you picked {len(names)}).")
    text = check_text(text)
    return [tokenize(studio, text, name) for name in names]


def compare_rows(views: list[TokenView]) -> list[list[Any]]:
    """One row per tokenizer: name, tokens, characters per token, round trip, window share."""
    rows = []
    for view in views:
        counts = view.counts()
        rows.append([
            view.tokenizer, counts["tokens"], counts["chars_per_token"], counts["partial_byte_tokens"],
            "yes" if view.round_trip_ok else "no", counts["context_window"] or "—",
        ])
    return rows


COMPARE_HEADERS = ["tokenizer", "tokens", "chars/token", "partial-byte tokens", "round trip", "window"]
