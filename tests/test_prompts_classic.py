"""Classic expansion: GPT-2 (the tiny "gpt2" twin) may only write tokens of the curated
visual words, commas and end-of-text, over many seeds."""

from __future__ import annotations

import pytest

from studio.errors import BadInput
from studio.prompts import classic


@pytest.fixture(scope="module")
def gpt2(studio_ctx):
    return studio_ctx.cache.get(studio_ctx.spec("text", classic.CLASSIC_MODEL))


def test_the_word_list_is_a_few_hundred_visual_phrases():
    words = classic.visual_words()
    assert 250 <= len(words) <= 1000 and len(set(words)) == len(words)
    assert {"golden hour", "oil painting", "bokeh", "highly detailed"} <= set(words)


def test_the_model_is_the_text_entrys_gpt2(studio_ctx):
    assert studio_ctx.spec("text", classic.CLASSIC_MODEL).source == "tiny:gpt2"


def test_only_allowed_tokens_are_ever_written(studio_ctx, gpt2):
    allowed = classic.allowed_token_ids(gpt2.tokenizer)
    assert len(allowed) < len(gpt2.tokenizer)  # the mask really removes most of the vocabulary
    written: set[int] = set()
    for seed in range(12):
        result = classic.classic_expand(studio_ctx, "a lighthouse on a cliff", temperature=1.5, seed=seed,
                                        max_new_tokens=24)
        assert set(result.generated_ids) <= allowed
        assert result.seed == seed
        assert result.prompt.startswith("a lighthouse on a cliff")
        assert all(phrase in classic.visual_words() for phrase in result.added)
        written |= set(result.generated_ids)
    assert len(written) > 5  # the seeds really draw different tokens


def test_the_same_seed_gives_the_same_words(studio_ctx):
    first = classic.classic_expand(studio_ctx, "a red fox", seed=99)
    assert classic.classic_expand(studio_ctx, "a red fox", seed=99).generated_ids == first.generated_ids


def test_phrases_follow_the_list_token_by_token(gpt2):
    trie = classic.PhraseTrie(gpt2.tokenizer, ("golden hour", "oil painting"))
    golden = gpt2.tokenizer(" golden hour", add_special_tokens=False)["input_ids"]
    assert golden[0] in trie.next_ids([])
    assert set(trie.next_ids(golden)) >= trie.separators  # a whole phrase may end
    assert gpt2.tokenizer.eos_token_id in trie.next_ids(golden)


def test_added_phrases_are_whole_new_list_entries():
    assert classic.added_phrases(" golden hour, golden hour, gold, oil painting", "a fox, oil painting") == ["golden hour"]


def test_empty_text_is_refused(studio_ctx):
    with pytest.raises(BadInput, match="empty"):
        classic.classic_expand(studio_ctx, " ")


def test_with_the_real_gpt2_tokenizer_every_path_spells_an_allowed_phrase(reference_gpt2):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(reference_gpt2)
    trie = classic.PhraseTrie(tokenizer)
    allowed = trie.allowed_ids()
    assert len(allowed) < 2_000 < len(tokenizer)  # a small corner of GPT-2's 50,257 tokens
    assert tokenizer(",")["input_ids"] == [11] and 11 in trie.separators  # "," is token 11 in GPT-2

    spelled: set[str] = set()

    def walk(node, path):
        if None in node:
            spelled.add(tokenizer.decode(path))
        for token_id, child in node.items():
            if token_id is not None:
                walk(child, path + [token_id])

    walk(trie.root, [])
    assert spelled == {" " + phrase for phrase in classic.visual_words()}
