"""Which language a prompt is written in: Chinese, English, a mix, or something else.

SDXL's CLIP encoder was trained on English captions, so anything not English is worth
expanding; English left "as is" never reaches the LLM.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Han (with extensions and compatibility forms), CJK punctuation, kana, hangul, full-width forms.
CJK = re.compile(r"[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN_LETTER = re.compile(r"[A-Za-z]")
OTHER_LETTER = re.compile(r"[^\W\d_A-Za-z]")  # letters that are neither ASCII nor CJK (é, ß, я...)
CHINESE_SHARE = 0.6  # at least this share of the letters are CJK: the prompt reads as Chinese
KINDS = ("chinese", "mixed", "english", "other", "empty")


@dataclass(frozen=True)
class Language:
    kind: str  # one of KINDS
    cjk_share: float  # CJK characters among all letters (0..1)

    @property
    def is_english(self) -> bool:
        return self.kind == "english"


def detect(text: str) -> Language:
    """Chinese / mixed / English from the share of CJK characters among the letters."""
    text = text or ""
    cjk = len(HAN.findall(text)) + len([c for c in CJK.findall(text) if not HAN.match(c) and c.isalpha()])
    latin = len(LATIN_LETTER.findall(text))
    other = len([c for c in OTHER_LETTER.findall(text) if not CJK.match(c)])
    letters = cjk + latin + other
    if letters == 0:
        return Language("empty", 0.0)
    share = cjk / letters
    if cjk == 0:
        # A few accented letters (café, naïve) still read as English.
        kind = "english" if other <= max(1, latin // 20) else "other"
    elif share >= CHINESE_SHARE:
        kind = "chinese"
    else:
        kind = "mixed"
    return Language(kind, round(share, 3))
