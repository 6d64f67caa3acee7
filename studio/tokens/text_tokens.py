"""Text -> tokens: ids, pieces, bytes, chips that rebuild the text exactly, counts, round trip."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from itertools import islice
from typing import TYPE_CHECKING, Any, Iterator

from studio.context import StudioContext
from studio.errors import BadInput
from studio.tokens import byte_pieces
from studio.tokens.clip_limit import CLIP_LIMIT, CLIP_TOKENIZER_ID, WindowCut, window_cut
from studio.tokens.sources import check_name, tokenizer_spec

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

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
    """Everything known about one tokenized text, kept as parallel lists.

    A 200,000-character text makes ~400,000 tokens: one Python object per token costs
    seconds, so per-token objects (``tokens``) and the chips are only built when asked for;
    the page draws the first few thousand chips only."""

    tokenizer: str
    text: str
    ids: list[int]
    piece_of: dict[int, str]  # per distinct id: the tokenizer's own spelling
    starts: list[int]  # character offsets of the text each token covers
    ends: list[int]
    special: list[int]  # indices of special tokens
    template: list[int]  # indices of specials added around the text (no text of their own)
    id_bytes: dict[int, tuple[str, bool]]  # per distinct id: (hex bytes, partial)
    byte_scheme: str
    context_window: int | None
    decoded: str
    window: WindowCut | None = None
    clip: WindowCut | None = None  # the CLIP 77-token cut, when asked for

    def token(self, index: int) -> TokenInfo:
        token_id = self.ids[index]
        special = index in self._special_set
        return TokenInfo(
            index, token_id, self.piece_of[token_id], self.starts[index], self.ends[index],
            special, index in self._template_set, *self.id_bytes[token_id],
        )

    @cached_property
    def pieces(self) -> list[str]:
        return [self.piece_of[token_id] for token_id in self.ids]

    @cached_property
    def tokens(self) -> list[TokenInfo]:
        return [self.token(i) for i in range(len(self.ids))]

    @cached_property
    def chips(self) -> list[Chip]:
        return list(_iter_chips(self.text, self.starts, self.ends))

    def first_chips(self, count: int) -> list[Chip]:
        """The first ``count`` chips, without building the rest."""
        return list(islice(_iter_chips(self.text, self.starts, self.ends), count))

    @cached_property
    def _special_set(self) -> frozenset[int]:
        return frozenset(self.special)

    @cached_property
    def _template_set(self) -> frozenset[int]:
        return frozenset(self.template)

    @property
    def partial_ids(self) -> list[int]:
        """Distinct ids whose bytes are only part of a character."""
        return [token_id for token_id, (_, partial) in self.id_bytes.items() if partial]

    def text_token_index(self, n: int) -> int:
        """Index of the ``n``-th token that is not a template special."""
        index = n
        for template in self.template:  # ascending, and few
            if template <= index:
                index += 1
        return index

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

    @cached_property
    def _partial_count(self) -> int:
        partial = self.partial_ids
        if not partial:
            return 0
        per_id = Counter(self.ids)
        return sum(per_id[token_id] for token_id in partial)

    def counts(self) -> dict[str, Any]:
        text_tokens = len(self.ids) - len(self.template)
        share = len(self.ids) / self.context_window if self.context_window else None
        return {
            "characters": len(self.text),
            "utf8_bytes": len(self.text.encode("utf-8")),
            "tokens": len(self.ids),
            "text_tokens": text_tokens,
            "special_tokens": len(self.special),
            "partial_byte_tokens": self._partial_count,
            "chars_per_token": round(len(self.text) / text_tokens, 3) if text_tokens else None,
            "context_window": self.context_window,
            "context_share": round(share, 5) if share is not None else None,
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


def _context_window(tokenizer: PreTrainedTokenizerBase) -> int | None:
    limit = getattr(tokenizer, "model_max_length", None)
    return int(limit) if isinstance(limit, int) and 0 < limit < NO_LIMIT else None


def _iter_chips(text: str, starts: list[int], ends: list[int]) -> Iterator[Chip]:
    """Slices of ``text`` in order, each with the tokens that cover it; gaps kept as-is,
    so the chips' texts always join back to exactly the input."""
    cursor = 0
    for group in byte_pieces.group_spans(starts, ends):
        first = group[0]
        if ends[first] <= starts[first]:  # a token with no text of its own
            yield Chip("", group)
            continue
        start = max(starts[first], cursor)
        end = max(cursor, ends[first] if len(group) == 1 else max(ends[i] for i in group))
        if start > cursor:
            yield Chip(text[cursor:start], [])
        yield Chip(text[start:end], group)
        cursor = end
    if cursor < len(text):
        yield Chip(text[cursor:], [])


def _encode(tokenizer: PreTrainedTokenizerBase, text: str) -> tuple[list[int], list[tuple[int, int]]]:
    """Ids and character offsets, as ``tokenizer(text)`` would give them.

    The Rust encoding is read directly when the tokenizer has no truncation or padding
    configured: transformers' conversion of 100k offsets costs more than the encoding.
    Token strings are looked up per distinct id later: a long text repeats its tokens."""
    backend = tokenizer.backend_tokenizer
    if backend.truncation is None and backend.padding is None:
        encoding = backend.encode(text, add_special_tokens=True)
        return encoding.ids, encoding.offsets
    encoding = tokenizer(text, return_offsets_mapping=True, add_special_tokens=True, verbose=False)
    return encoding["input_ids"], encoding["offset_mapping"]


def build_view(tokenizer: PreTrainedTokenizerBase, text: str, name: str) -> TokenView:
    """Tokenize ``text`` with a loaded tokenizer and build everything the tab shows."""
    if not getattr(tokenizer, "is_fast", False):
        raise BadInput(
            f"{name} has no fast (Rust) tokenizer, so where each token sits in the text is unknown. "
            "Pick another tokenizer."
        )
    ids, offsets = _encode(tokenizer, text)
    starts, ends = [s for s, _ in offsets], [e for _, e in offsets]
    # Per distinct id, not per token: a long text repeats its tokens a lot.
    distinct = list(dict.fromkeys(ids))
    piece_of = dict(zip(distinct, tokenizer.convert_ids_to_tokens(distinct)))
    special_ids = set(tokenizer.all_special_ids) & piece_of.keys()
    reader = byte_pieces.reader_for(tokenizer)
    id_bytes = {}
    for token_id, piece in piece_of.items():
        data = reader.token_bytes(piece, token_id in special_ids)
        id_bytes[token_id] = (byte_pieces.hex_bytes(data), byte_pieces.is_partial(data))
    special = [i for i, token_id in enumerate(ids) if token_id in special_ids] if special_ids else []
    template = [i for i in special if starts[i] == ends[i]]
    skip = set(template)
    text_ids = [t for i, t in enumerate(ids) if i not in skip] if skip else ids
    decoded = tokenizer.decode(text_ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)
    window = _context_window(tokenizer)
    view = TokenView(
        tokenizer=name, text=text, ids=ids, piece_of=piece_of, starts=starts, ends=ends, special=special,
        template=template, id_bytes=id_bytes, byte_scheme=reader.scheme, context_window=window,
        decoded=decoded,
    )
    if window:
        text_starts = [s for i, s in enumerate(starts) if i not in skip] if skip else starts
        view.window = window_cut(text, text_starts, len(template), window)
    return view


def tokenize(studio: StudioContext, text: str, tokenizer: str | None = None, clip_check: bool = False) -> TokenView:
    """Tokenize through the shared cache; ``clip_check`` also measures the CLIP 77-token cut."""
    text = check_text(text)
    spec = tokenizer_spec(studio, tokenizer)
    with studio.cache.use(spec) as loaded:
        view = build_view(loaded, text, (tokenizer or "").strip() or spec.source)
    if clip_check:
        with studio.cache.use(tokenizer_spec(studio, CLIP_TOKENIZER_ID)) as clip:
            view.clip = clip_cut(clip, text)
    return view


def clip_cut(tokenizer: PreTrainedTokenizerBase, text: str) -> WindowCut:
    """Where CLIP's 77-token window cuts ``text``: only the offsets are needed, not a view."""
    ids, offsets = _encode(tokenizer, text)
    special_ids = set(tokenizer.all_special_ids)
    text_starts = [s for token_id, (s, e) in zip(ids, offsets) if not (token_id in special_ids and s == e)]
    return window_cut(text, text_starts, len(ids) - len(text_starts), CLIP_LIMIT)


def compare(studio: StudioContext, text: str, tokenizers: list[str]) -> list[TokenView]:
    """The same text through two to four tokenizers."""
    if isinstance(tokenizers, str):  # one name typed where a list belongs
        tokenizers = [tokenizers]
    names = list(dict.fromkeys(filter(None, (check_name(name) for name in tokenizers or []))))
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
