"""The bytes behind each token, told honestly.

Byte-level BPE tokenizers (GPT-2, Qwen, BLOOM, CLIP) work on UTF-8 bytes, so one Chinese
character (3 bytes) is often split over two or three tokens, and no token on its own is a
character. We recover each token's exact bytes from the tokenizer's own byte alphabet
(``bytes_to_unicode``, the table the ByteLevel pre-tokenizer uses), and SentencePiece
byte-fallback tokens from their ``<0xNN>`` form. A token is *partial* when its bytes are not
valid UTF-8 on their own; tokens that share characters are grouped back by their offsets.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

BYTE_FALLBACK = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")
SENTENCEPIECE_SPACE = "\u2581"  # "▁"


@lru_cache(maxsize=1)
def _byte_alphabet_table() -> dict[int, str]:
    """str.translate table: byte-level alphabet char -> the byte it stands for (as a latin-1
    char); every other char below 256 maps to U+FFFF so that encoding it fails loudly."""
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    table = {code: "\uffff" for code in range(256)}
    table.update({ord(char): chr(byte) for byte, char in bytes_to_unicode().items()})
    return table


def _decoder_types(tokenizer: PreTrainedTokenizerBase) -> set[str]:
    """Types of the backend decoder (and its parts when it is a Sequence)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    decoder = getattr(backend, "decoder", None)
    if decoder is None:
        return set()
    state = json.loads(decoder.__getstate__())
    parts = state.get("decoders") or [state]
    return {part.get("type", "") for part in parts}


@dataclass(frozen=True)
class ByteReader:
    """Turns a token string into the bytes it stands for; ``byte_level`` says how honest it is."""

    scheme: str  # "byte-level", "byte-fallback" or "text"
    word_suffix: str = ""

    @property
    def byte_level(self) -> bool:
        return self.scheme != "text"

    def token_bytes(self, piece: str, special: bool) -> bytes | None:
        """The token's bytes, or None when the tokenizer does not work on bytes."""
        if special:
            return piece.encode("utf-8")
        if self.scheme == "byte-level":
            if self.word_suffix and piece.endswith(self.word_suffix):
                piece = piece[: -len(self.word_suffix)]
            try:
                return piece.translate(_byte_alphabet_table()).encode("latin-1")
            except UnicodeEncodeError:
                return piece.encode("utf-8")  # an added token written in plain text
        if self.scheme == "byte-fallback":
            match = BYTE_FALLBACK.match(piece)
            if match:
                return bytes([int(match.group(1), 16)])
            return piece.replace(SENTENCEPIECE_SPACE, " ").encode("utf-8")
        return None


def reader_for(tokenizer: PreTrainedTokenizerBase) -> ByteReader:
    types = _decoder_types(tokenizer)
    model = getattr(getattr(tokenizer, "backend_tokenizer", None), "model", None)
    suffix = getattr(model, "end_of_word_suffix", None) or ""
    if "ByteLevel" in types:
        return ByteReader("byte-level", suffix)
    if "ByteFallback" in types:
        return ByteReader("byte-fallback")
    return ByteReader("text")


def is_partial(data: bytes | None) -> bool:
    """True when ``data`` is not whole UTF-8 characters (a piece of a character)."""
    if not data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def hex_bytes(data: bytes | None) -> str:
    return data.hex(" ") if data else ""


def group_spans(starts: list[int], ends: list[int]) -> Iterator[list[int]]:
    """Indices of tokens grouped so that tokens sharing characters fall in one group.

    Byte-level tokens that each hold part of a character report overlapping character
    offsets (e.g. both halves of "炎" say (0, 1)); chaining overlaps rebuilds the
    characters they make together. Tokens without text (template specials) stay alone.
    A generator: the page only draws the first few thousand groups of a long text.
    """
    group: list[int] = []
    group_end = -1  # -1: the current group cannot be extended
    for index, (start, end) in enumerate(zip(starts, ends)):
        if start < end and start < group_end:  # has text, and overlaps the open group
            group.append(index)
            group_end = max(group_end, end)
            continue
        if group:
            yield group
        group = [index]
        group_end = end if end > start else -1
    if group:
        yield group
