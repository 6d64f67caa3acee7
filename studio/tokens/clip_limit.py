"""Where a tokenizer's window cuts a text, e.g. CLIP's 77 tokens for image prompts."""

from __future__ import annotations

from dataclasses import asdict, dataclass

# The text encoder of Stable Diffusion / SDXL reads at most 77 CLIP tokens, start and end
# markers included: anything after the first 75 prompt tokens is silently dropped.
CLIP_LIMIT = 77
CLIP_TOKENIZER_ID = "openai/clip-vit-large-patch14"


@dataclass(frozen=True)
class WindowCut:
    limit: int
    tokens: int  # all tokens, template specials included
    overflow: bool
    kept_tokens: int  # of the text's own tokens
    dropped_tokens: int
    cut_at_char: int | None  # first character the model never sees
    kept_text: str
    dropped_text: str

    def as_dict(self, with_texts: bool = True) -> dict:
        """``with_texts=False`` leaves out the kept and dropped texts: ``cut_at_char`` locates
        the cut in the text the caller already has, and a long text is not sent back twice."""
        data = asdict(self)
        if not with_texts:
            del data["kept_text"], data["dropped_text"]
        return data


def window_cut(text: str, starts: list[int], template_count: int, limit: int) -> WindowCut:
    """Cut like ``truncation=True, max_length=limit``: the template's specials always stay,
    so ``limit - template_count`` of the text's own tokens fit. ``starts`` are the text
    tokens' start offsets, in order."""
    room = max(limit - template_count, 0)
    total = len(starts) + template_count
    if len(starts) <= room:
        return WindowCut(limit, total, False, len(starts), 0, None, text, "")
    cut = starts[room]
    return WindowCut(limit, total, True, room, len(starts) - room, cut, text[:cut], text[cut:])
