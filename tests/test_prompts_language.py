"""Chinese / mixed / English detection from the share of CJK characters."""

from __future__ import annotations

import pytest

from studio.prompts.language import detect


@pytest.mark.parametrize("text,kind", [
    ("一隻在雪地裡的紅狐狸，清晨", "chinese"),
    ("炎龍老師很幽默", "chinese"),
    ("紅狐狸 in the snow", "mixed"),
    ("一隻紅狐狸, cinematic lighting, 8k", "mixed"),
    ("a red fox in the snow, cinematic lighting", "english"),
    ("café latte art, soft light", "english"),
    ("Un renard roux dans la neige, éclairé à l'aube, très détaillé", "other"),
    ("", "empty"),
    ("123, !!!", "empty"),
])
def test_kind(text, kind):
    assert detect(text).kind == kind


def test_share_counts_cjk_among_letters():
    assert detect("貓").cjk_share == 1.0
    assert detect("cat").cjk_share == 0.0
    assert 0 < detect("貓 cat").cjk_share < 1
    assert detect("a red fox").is_english and not detect("紅狐狸").is_english
