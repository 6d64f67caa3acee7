"""The /tokenize answer: compact (parallel lists, per-id tables) holds the same facts as the
full per-token detail; bad detail values and oversized full requests are refused."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings as hyp_settings, strategies as st

from studio.errors import BadInput
from studio.tokens import answer, sources, text_tokens


@pytest.fixture(scope="module")
def loaded_tokenizers(studio_ctx):
    loaded = {}
    for model_id in sources.offered(studio_ctx.settings):
        spec = sources.tokenizer_spec(studio_ctx, model_id)
        loaded[spec.source] = studio_ctx.cache.get(spec)
    return loaded


def tokens_from_compact(compact: dict) -> list[dict]:
    """Rebuild the full answer's per-token dicts from the compact lists and tables."""
    special, template = set(compact["special"]), set(compact["template"])
    rebuilt = []
    for index, token_id in enumerate(compact["ids"]):
        key = str(token_id)
        rebuilt.append({
            "index": index, "id": token_id, "piece": compact["pieces"][key],
            "start": compact["starts"][index], "end": compact["ends"][index],
            "special": index in special, "template": index in template,
            "partial": key in compact["byte_pieces"],
        })
    return rebuilt


unicode_text = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=60)


@hyp_settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=unicode_text)
def test_compact_holds_the_same_facts_as_full_for_every_tokenizer(loaded_tokenizers, text):
    for name, tokenizer in loaded_tokenizers.items():
        view = text_tokens.build_view(tokenizer, text, name)
        compact, full = answer.compact(view), answer.full(view)
        keys = ("index", "id", "piece", "start", "end", "special", "template", "partial")
        assert tokens_from_compact(compact) == [{k: t[k] for k in keys} for t in full["tokens"]], name
        for token in full["tokens"]:  # bytes are given exactly for the byte pieces
            if token["partial"]:
                assert compact["byte_pieces"][str(token["id"])] == token["bytes_hex"], name
        assert compact["counts"] == full["counts"] and compact["ids"] == full["ids"], name
        assert compact["round_trip"]["ok"] == full["round_trip"]["ok"], name
        assert "".join(chip["text"] for chip in full["chips"]) == text, name


def test_compact_gives_the_real_gpt2_ids_offsets_and_byte_pieces(studio_ctx, reference_gpt2):
    hello = answer.compact(text_tokens.tokenize(studio_ctx, "Hello world", reference_gpt2))
    assert hello["ids"] == [15496, 995]
    assert (hello["starts"], hello["ends"]) == ([0, 5], [5, 11])
    assert hello["pieces"] == {"15496": "Hello", "995": "Ġworld"} and hello["byte_pieces"] == {}
    chinese = answer.compact(text_tokens.tokenize(studio_ctx, "老師", reference_gpt2))
    # 師 is e5 b8 ab in UTF-8; the real GPT-2 cuts it into e5 b8 (id 30585) and ab.
    assert chinese["byte_pieces"]["30585"] == "e5 b8"
    both_halves = [i for i, token_id in enumerate(chinese["ids"]) if chinese["starts"][i] == 1]
    assert len(both_halves) == 2 and all(chinese["ends"][i] == 2 for i in both_halves)


def test_compact_never_sends_the_text_back(studio_ctx):
    text = "a photo of a cat on the sea at sunset, " * 12
    view = text_tokens.tokenize(studio_ctx, text, "openai-community/gpt2", clip_check=True)
    compact = answer.compact(view)
    assert compact["clip"]["overflow"] and "dropped_text" not in compact["clip"]
    cut = compact["clip"]["cut_at_char"]
    assert text[:cut] == view.clip.kept_text  # the offset is enough to find the cut
    assert "decoded" not in compact["round_trip"] and "tokens" not in compact and "chips" not in compact
    assert answer.full(view)["clip"]["dropped_text"] == text[cut:]


@pytest.mark.parametrize("detail, characters, message", [
    ("everything", 10, 'detail is "compact"'),
    ("x" * 200_000, 10, 'detail is "compact"'),
    ("full", answer.MAX_FULL_CHARS + 1, "at most 40,000 characters"),
])
def test_bad_detail_is_refused_with_a_sentence(detail, characters, message):
    with pytest.raises(BadInput, match=message):
        answer.check_detail(detail, characters)


def test_detail_accepts_compact_full_and_empty():
    assert answer.check_detail(None) == answer.check_detail("") == answer.check_detail(" Compact ") == "compact"
    assert answer.check_detail("full", answer.MAX_FULL_CHARS) == "full"
