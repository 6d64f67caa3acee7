"""Reading an LLM's reply as a prompt: the model is asked for two labelled lines, but small
models chatter, quote, fence, answer in JSON or label things their own way. ``parse_reply``
takes what looks like a prompt and reports junk as ``None``; it never raises."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

MAX_PROMPT_CHARS = 1_000  # a longer "prompt" is the model rambling, not a prompt
MIN_WORDS = 2
ENGLISH_SHARE = 0.85  # of the letters; below this the reply was not translated

THINK = re.compile(r"<think>.*?(</think>|$)", re.S | re.I)
FENCE = re.compile(r"```[\w-]*\s*\n?(.*?)(```|$)", re.S)
JSON_OBJECT = re.compile(r"\{.*\}", re.S)
POSITIVE_LABEL = re.compile(
    r"^\W*(?:english\s+|positive\s+|image\s+|final\s+|expanded\s+|sdxl\s+)*(?:prompt|positive|正面提示詞|提示詞)\W*?\s*[:：]\s*",
    re.I,
)
NEGATIVE_LABEL = re.compile(r"^\W*(?:suggested\s+)?(?:negative(?:\s+prompt)?|負面提示詞|反向提示詞)\W*?\s*[:：]\s*", re.I)
# Lines that talk about the prompt instead of being it.
CHATTER = re.compile(
    r"^\W*(here(?:'s| is| are)\b|sure\b|certainly\b|of course\b|okay\b|ok\b|i (?:hope|have|can|will|'ve)\b|"
    r"let me\b|this prompt\b|note\b|explanation\b|feel free\b|enjoy\b|hope this\b|translation\b|以下|好的)",
    re.I,
)
QUOTES = "\"'`“”‘’「」『』«»"
JSON_POSITIVE = ("prompt", "positive", "positive_prompt", "english_prompt", "english", "en")
JSON_NEGATIVE = ("negative", "negative_prompt", "neg")


@dataclass(frozen=True)
class ParsedReply:
    positive: str
    negative: str  # "" when the model gave none


def _clean(text: str) -> str:
    text = re.sub(r"[*_#]{1,3}", "", text)  # markdown emphasis and headings
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"^[-•>\d.)\s]+(?=[A-Za-z])", "", text)  # bullets and "1." numbering
    text = text.strip().strip(QUOTES).strip()
    return text.rstrip(".;").strip().strip(QUOTES).strip()


def _from_json(text: str) -> ParsedReply | None:
    match = JSON_OBJECT.search(text)
    if not match:
        return None
    try:
        data = json.loads(match.group(0))
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    lowered = {str(k).strip().lower(): v for k, v in data.items()}
    positive = next((lowered[k] for k in JSON_POSITIVE if isinstance(lowered.get(k), str)), "")
    negative = next((lowered[k] for k in JSON_NEGATIVE if isinstance(lowered.get(k), str)), "")
    return ParsedReply(_clean(positive), _clean(negative)) if positive else None


def _from_lines(text: str) -> ParsedReply | None:
    positive, negative, plain = "", "", []
    for raw in text.splitlines():
        line = raw.strip()
        heading = line.startswith("#")
        line = line.lstrip("#").strip()
        if not line:
            continue
        if NEGATIVE_LABEL.match(line):
            negative = negative or _clean(NEGATIVE_LABEL.sub("", line, count=1))
        elif POSITIVE_LABEL.match(line):
            positive = positive or _clean(POSITIVE_LABEL.sub("", line, count=1))
        elif not heading and not CHATTER.match(line) and not line.endswith(":"):
            plain.append(_clean(line))
    if not positive:
        # No label: the first line that is not chatter is the prompt.
        positive = next((p for p in plain if p), "")
    return ParsedReply(positive, negative) if positive else None


def looks_like_prompt(text: str) -> bool:
    """English words, a sensible length: what a text encoder can use."""
    if not text or len(text) > MAX_PROMPT_CHARS:
        return False
    letters = [c for c in text if c.isalpha()]
    ascii_letters = sum(1 for c in letters if c.isascii())
    words = re.findall(r"[A-Za-z]{2,}", text)
    return len(words) >= MIN_WORDS and ascii_letters >= ENGLISH_SHARE * len(letters)


def parse_reply(reply: object) -> ParsedReply | None:
    """The prompt (and negative prompt) in ``reply``, or None when it holds no usable prompt."""
    try:
        text = THINK.sub("", str(reply or "")).strip()
        fenced = FENCE.search(text)
        if fenced and fenced.group(1).strip():
            text = fenced.group(1).strip()
        parsed = _from_json(text) or _from_lines(text)
    except Exception:  # a parser bug must not lose the user's prompt: treat it as junk
        return None
    if parsed is None or not looks_like_prompt(parsed.positive):
        return None
    # A one-word negative ("blurry") is fine; a non-English or rambling one is dropped.
    negative = parsed.negative if looks_like_prompt(f"{parsed.negative} blurry") else ""
    return ParsedReply(parsed.positive, negative)
