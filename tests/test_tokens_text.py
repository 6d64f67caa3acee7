"""Text tokens: the real GPT-2 tokenizer as external truth, every tiny tokenizer under
random Unicode, limits, tokenizer choice (and the local-folder rule), CLIP cut, compare."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings as hyp_settings, strategies as st

from studio.context import StudioContext
from studio.errors import BadInput, ModelUnavailable
from studio.settings import with_overrides
from studio.tokens import render, sources, text_tokens
from studio.tokens.clip_limit import CLIP_LIMIT, CLIP_TOKENIZER_ID

CHINESE = "炎龍老師很幽默"
TINY_GPT2 = "openai-community/gpt2"  # the tiny profile's byte-level twin: no reference data needed


@pytest.fixture(scope="module")
def real_gpt2(reference_gpt2):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(reference_gpt2)


# --- the real GPT-2 tokenizer -------------------------------------------------------------


def test_hello_world_ids_from_the_real_gpt2(studio_ctx, reference_gpt2):
    view = text_tokens.tokenize(studio_ctx, "Hello world", reference_gpt2)
    assert view.ids == [15496, 995]
    assert [c.text for c in view.chips] == ["Hello", " world"]


def test_unbelievable_is_cut_like_the_real_tokenizer(studio_ctx, reference_gpt2):
    view = text_tokens.tokenize(studio_ctx, "unbelievable", reference_gpt2)
    assert [view.text[t.start:t.end] for t in view.tokens] == ["un", "bel", "iev", "able"]
    assert [t.piece for t in view.tokens] == ["un", "bel", "iev", "able"]


def test_chinese_round_trips_byte_exactly_and_partial_tokens_are_flagged(studio_ctx, real_gpt2, reference_gpt2):
    view = text_tokens.tokenize(studio_ctx, CHINESE, reference_gpt2)
    assert view.round_trip_ok and view.decoded == CHINESE
    # The tokens' bytes, joined, are exactly the UTF-8 of the text.
    assert b"".join(bytes.fromhex(t.bytes_hex) for t in view.tokens) == CHINESE.encode("utf-8")
    # Independent truth: a token alone decodes to U+FFFD exactly when it is a piece of a character.
    for token in view.tokens:
        assert token.partial == ("\ufffd" in real_gpt2.decode([token.id])), token
    assert sum(t.partial for t in view.tokens) >= 7
    # Chips group the byte pieces back into the characters they build.
    assert [c.text for c in view.chips] == list(CHINESE)
    first = [view.tokens[i] for i in view.chips[0].tokens]
    assert [t.bytes_hex for t in first] == ["e7", "82 8e"]  # "炎" is e7 82 8e in UTF-8
    assert view.counts()["partial_byte_tokens"] == sum(t.partial for t in view.tokens)
    assert len(view.ids) == 14


def test_context_window_overflow_is_cut_where_truncation_cuts(studio_ctx, real_gpt2, reference_gpt2):
    text = "tokens are counted " * 400
    view = text_tokens.tokenize(studio_ctx, text, reference_gpt2)
    assert view.context_window == 1024 and view.window.overflow
    truncated = real_gpt2(text, truncation=True, max_length=1024)["input_ids"]
    assert view.ids[: view.window.kept_tokens] == truncated
    assert view.window.kept_text + view.window.dropped_text == text
    assert 'class="tok c' in render.chips_html(view) and " cut" in render.chips_html(view)


# --- every tiny tokenizer ------------------------------------------------------------------


def tiny_tokenizer_ids(settings) -> list[str]:
    return sources.offered(settings)


def test_every_offered_tokenizer_loads_offline(studio_ctx):
    ids = tiny_tokenizer_ids(studio_ctx.settings)
    assert {"openai-community/gpt2", "google-bert/bert-base-chinese", CLIP_TOKENIZER_ID} <= set(ids)
    for model_id in ids:
        view = text_tokens.tokenize(studio_ctx, CHINESE + " unbelievable", model_id)
        assert view.tokens and "".join(c.text for c in view.chips) == view.text


@pytest.fixture(scope="module")
def loaded_tokenizers(studio_ctx):
    loaded = {}
    for model_id in tiny_tokenizer_ids(studio_ctx.settings):
        spec = sources.tokenizer_spec(studio_ctx, model_id)
        loaded[spec.source] = studio_ctx.cache.get(spec)
    return loaded


unicode_text = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=60)


@hyp_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=unicode_text)
def test_chips_rebuild_any_text_exactly_for_every_tokenizer(loaded_tokenizers, text):
    for name, tokenizer in loaded_tokenizers.items():
        view = text_tokens.build_view(tokenizer, text, name)
        assert "".join(c.text for c in view.chips) == text, name
        assert view.ids == tokenizer(text)["input_ids"], name
        covered = [i for c in view.chips for i in c.tokens]
        assert covered == list(range(len(view.tokens))), name  # every token once, in order
        assert view.first_chips(3) == view.chips[:3], name  # the page's prefix is the same chips
        normalises = tokenizer.backend_tokenizer.normalizer is not None
        if view.byte_scheme == "byte-level" and not normalises:
            text_bytes = b"".join(bytes.fromhex(t.bytes_hex) for t in view.tokens if not t.template)
            assert text_bytes == text.encode("utf-8"), name
            assert view.round_trip_ok, name


def test_bert_wordpiece_cuts_chinese_per_character_and_keeps_skipped_spaces(studio_ctx):
    view = text_tokens.tokenize(studio_ctx, "老師  很好", "google-bert/bert-base-chinese")
    assert [t.piece for t in view.tokens][0] == "[CLS]" and view.tokens[-1].piece == "[SEP]"
    assert all(t.template for t in (view.tokens[0], view.tokens[-1]))
    assert any(not c.tokens and c.text == "  " for c in view.chips)  # the spaces BERT drops
    assert view.byte_scheme == "text" and not any(t.partial for t in view.tokens)


# --- CLIP's 77 tokens ------------------------------------------------------------------------


def test_clip_prompt_overflow_shows_where_it_is_cut(studio_ctx):
    prompt = "a photo of a cat on the sea at sunset, " * 12
    view = text_tokens.tokenize(studio_ctx, prompt, "openai-community/gpt2", clip_check=True)
    cut = view.clip
    assert cut.limit == CLIP_LIMIT and cut.overflow and cut.kept_tokens == CLIP_LIMIT - 2
    assert cut.kept_text + cut.dropped_text == prompt
    spec = sources.tokenizer_spec(studio_ctx, CLIP_TOKENIZER_ID)
    clip = studio_ctx.cache.get(spec)
    truncated = clip(prompt, truncation=True, max_length=CLIP_LIMIT)["input_ids"]
    assert clip(cut.kept_text)["input_ids"] == truncated  # the kept part is exactly what CLIP reads


def test_short_prompt_is_not_cut(studio_ctx):
    view = text_tokens.tokenize(studio_ctx, "a cat", CLIP_TOKENIZER_ID, clip_check=True)
    assert not view.clip.overflow and view.clip.dropped_text == ""


# --- bad input -------------------------------------------------------------------------------


def test_empty_text_is_refused(studio_ctx):
    with pytest.raises(BadInput, match="Type or paste"):
        text_tokens.tokenize(studio_ctx, "", TINY_GPT2)


def test_one_megabyte_is_refused_with_the_limit(studio_ctx):
    with pytest.raises(BadInput, match="at most 200,000"):
        text_tokens.tokenize(studio_ctx, "x" * 1_048_576, TINY_GPT2)


def test_unknown_tokenizer_id(studio_ctx):
    with pytest.raises(ModelUnavailable, match="no tokenizer 'someone/not-a-model'"):
        text_tokens.tokenize(studio_ctx, "hi", "someone/not-a-model")
    with pytest.raises(BadInput, match="neither a Hugging Face model id"):
        text_tokens.tokenize(studio_ctx, "hi", "not an id!")


def test_overlong_tokenizer_names_are_refused_with_the_limit(studio_ctx):
    with pytest.raises(BadInput, match="at most 500 characters"):
        text_tokens.tokenize(studio_ctx, "hi", "a" * 200_000)
    with pytest.raises(BadInput, match="at most 500 characters"):
        text_tokens.compare(studio_ctx, "hi", [TINY_GPT2, "b" * 200_000])
    # Under the limit but longer than a file name may be: a sentence, not an OSError.
    with pytest.raises(BadInput, match="neither a Hugging Face model id"):
        text_tokens.tokenize(studio_ctx, "hi", "a" * 300)
    with pytest.raises(BadInput, match="no folder"):
        text_tokens.tokenize(studio_ctx, "hi", "/tmp/" + "a" * 300)


def test_unknown_hub_id_in_standard_profile_names_the_id(tiny_settings):
    studio = StudioContext(with_overrides(tiny_settings, profile="standard"))
    with pytest.raises(ModelUnavailable, match="someone/not-a-model"):
        text_tokens.tokenize(studio, "hi", "someone/not-a-model")


# --- local folders: only where safe --------------------------------------------------------


@pytest.mark.parametrize("exposed", [{"share": True}, {"host": "0.0.0.0"}])
def test_local_folders_are_refused_on_an_exposed_server(tiny_settings, exposed, tmp_path):
    studio = StudioContext(with_overrides(tiny_settings, **exposed))
    for path in (str(tmp_path), "/etc", "../../etc"):
        with pytest.raises(BadInput, match="Local folders"):
            sources.tokenizer_spec(studio, path)


def test_exposed_server_accepts_folders_under_the_safe_root_only(tiny_settings, studio_ctx, tmp_path):
    tokenizer = studio_ctx.cache.get(sources.tokenizer_spec(studio_ctx, TINY_GPT2))
    settings = with_overrides(tiny_settings, share=True, cache_dir=tmp_path / "cache")
    root = sources.safe_root(settings)
    tokenizer.save_pretrained(root / "gpt2-copy")
    studio = StudioContext(settings)
    view = text_tokens.tokenize(studio, "Hello world", str(root / "gpt2-copy"))
    assert view.ids == tokenizer("Hello world")["input_ids"]
    tokenizer.save_pretrained(tmp_path / "outside")
    (root / "escape").symlink_to(tmp_path / "outside")  # a link out of the root
    with pytest.raises(BadInput, match="Local folders"):
        sources.tokenizer_spec(studio, str(root / "escape"))


def test_local_folder_without_tokenizer_files(studio_ctx, tmp_path):
    with pytest.raises(BadInput, match="no tokenizer files"):
        sources.tokenizer_spec(studio_ctx, str(tmp_path))


# --- compare and render --------------------------------------------------------------------


def test_compare_two_to_four(studio_ctx):
    names = [TINY_GPT2, "google-bert/bert-base-chinese", CLIP_TOKENIZER_ID]
    views = text_tokens.compare(studio_ctx, CHINESE, names)
    rows = text_tokens.compare_rows(views)
    assert [r[0] for r in rows] == names
    for row, name in zip(rows, names):
        tokenizer = studio_ctx.cache.get(sources.tokenizer_spec(studio_ctx, name))
        assert row[1] == len(tokenizer(CHINESE)["input_ids"]), name
    for wrong in ([TINY_GPT2], names + ["tiny:gpt2", "bigscience/bloom-560m"]):
        with pytest.raises(BadInput, match="two to four"):
            text_tokens.compare(studio_ctx, CHINESE, wrong)


def test_render_escapes_marks_whitespace_and_caps_long_texts(studio_ctx):
    view = text_tokens.tokenize(studio_ctx, "<script>alert(1)</script> a\nb", TINY_GPT2)
    html = render.chips_html(view)
    assert "<script" not in html and "&lt;" in html and "&gt;" in html
    assert "<i>·</i>" in html and "<i>↵</i>" in html
    long_view = text_tokens.tokenize(studio_ctx, ("炎龍老師很幽默, unbelievable! " * 5000)[:100_000], TINY_GPT2)
    long_html = render.chips_html(long_view)
    assert long_view.counts()["characters"] == 100_000
    assert "Showing the first" in long_html and long_html.count('class="tok ') <= render.MAX_CHIPS
