"""Fooocus / A1111 prompt syntax: (word:1.3) weights, prompts past CLIP's 77 tokens in chunks,
__wildcards__ picked with the seed; on the tiny twins (real CLIP tokenizers and encoders)."""

from __future__ import annotations

import numpy as np
import pytest

from studio.image import checkpoints, prompt_encoding, prompt_syntax
from studio.pictures import metadata
from studio.image.generate import generate_images
from studio.image.request import ImageRequest
from tests.image_helpers import image_ctx, pixels  # noqa: F401  (fixture)

SMALL = dict(width=256, height=256, steps=2, seed=5)
SDXL, SD15, ZIMAGE = ("stabilityai/stable-diffusion-xl-base-1.0", "stable-diffusion-v1-5/stable-diffusion-v1-5",
                      "Tongyi-MAI/Z-Image-Turbo")
WORDS = ("a red fox in deep snow at dawn, soft golden light on the ridge, pine trees, mist in the valley, "
         "a frozen river below, long shadows, cinematic, highly detailed fur, ")


def run(ctx, folder=None, **fields):
    return generate_images(ctx, ImageRequest(**{**SMALL, **fields}), folder)[0]


# -- the syntax, as A1111 reads it -----------------------------------------------------------


@pytest.mark.parametrize("prompt, expected", [
    ("a (red fox:1.5) in snow", [("a ", 1.0), ("red fox", 1.5), (" in snow", 1.0)]),
    ("(fox)", [("fox", 1.1)]),
    ("[fox]", [("fox", 1 / 1.1)]),
    ("((fox))", [("fox", 1.1 * 1.1)]),
    ("(a (b) c:1.5) d", [("a ", 1.5), ("b", 1.65), (" c", 1.5), (" d", 1.0)]),
    (r"\(not a weight\) and \[plain\]", [("(not a weight) and [plain]", 1.0)]),
    ("open (group", [("open ", 1.0), ("group", 1.1)]),  # left open: it weighs the rest
    ("stray ) and ]", [("stray ) and ]", 1.0)]),
    ("cute+ cat--, well-lit", [("cute+ cat--, well-lit", 1.0)]),  # compel's own syntax is not read
    ("a:b (c: 0.5)", [("a:b ", 1.0), ("c", 0.5)]),
])
def test_the_syntax_follows_a1111(prompt, expected):
    found = prompt_syntax.fragments(prompt)
    assert [text for text, _ in found] == [text for text, _ in expected]
    assert [weight for _, weight in found] == pytest.approx([weight for _, weight in expected])


# -- encoding ---------------------------------------------------------------------------------


@pytest.mark.parametrize("checkpoint, kind", [(SDXL, "sdxl"), (SD15, "sd")])
def test_a_plain_short_prompt_encodes_as_the_pipeline_does(image_ctx, checkpoint, kind):
    """compel's embeddings of an unweighted prompt equal diffusers' own: nothing drifts for them."""
    import torch

    with image_ctx.cache.use(checkpoints.spec(image_ctx, checkpoint)) as model, torch.no_grad():
        pipe = model.pipeline
        ours = prompt_encoding.embeddings(pipe, kind, "a red fox", "blurry")
        theirs = pipe.encode_prompt("a red fox", device="cpu", num_images_per_prompt=1,
                                    do_classifier_free_guidance=True, negative_prompt="blurry")
    assert np.allclose(ours["prompt_embeds"].numpy(), theirs[0].numpy(), atol=1e-6)
    assert np.allclose(ours["negative_prompt_embeds"].numpy(), theirs[1].numpy(), atol=1e-6)


def test_a_long_prompt_is_read_past_77_tokens_and_the_note_names_the_chunks(image_ctx):
    long_prompt = WORDS * 2  # about 200 tokens of the twin's CLIP tokenizer
    with image_ctx.cache.use(checkpoints.spec(image_ctx, SDXL)) as model:
        tokenizer = model.pipeline.tokenizer
        assert 151 <= prompt_encoding.token_count(tokenizer, long_prompt) <= 225  # three chunks
        cut = tokenizer(long_prompt, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"][75][0]
    first_77 = long_prompt[:cut]  # what a 77-token encoder read of it
    whole, window = run(image_ctx, prompt=long_prompt), run(image_ctx, prompt=first_77)
    assert not np.array_equal(pixels(whole), pixels(window))
    assert any("encoded in 3 chunks of 77" in note and "all of it is read" in note for note in whole.notes)


def test_a_weight_changes_the_pixels_and_weight_one_is_the_plain_word(image_ctx):
    plain = run(image_ctx, prompt="a fox in snow")
    weighted = run(image_ctx, prompt="a (fox:1.5) in snow")
    neutral = run(image_ctx, prompt="a (fox:1.0) in snow")
    assert not np.array_equal(pixels(plain), pixels(weighted))
    assert np.array_equal(pixels(plain), pixels(neutral))
    assert weighted.prompt == "a (fox:1.5) in snow"  # the syntax is what the result says it used


def test_past_the_most_chunks_the_rest_is_never_seen_and_said(image_ctx):
    result = run(image_ctx, prompt=WORDS * 30 + "THE END")
    note = next(note for note in result.notes if "chunks" in note)
    assert f"reads at most {prompt_encoding.MAX_CHUNKS}" in note and "THE END" in note


def test_z_image_reads_the_words_without_the_weights_and_says_so(image_ctx):
    result = run(image_ctx, prompt="a (red fox:1.4) in [snow]", checkpoint=ZIMAGE)
    assert result.prompt == "a red fox in snow"
    assert any("without them" in note for note in result.notes)
    same = run(image_ctx, prompt="a red fox in snow", checkpoint=ZIMAGE)
    assert np.array_equal(pixels(result), pixels(same))


# -- wildcards and metadata ------------------------------------------------------------------------


@pytest.fixture
def wildcard_ctx(image_ctx, tmp_path, monkeypatch):
    (tmp_path / "animal.txt").write_text("# animals\nfox\nowl\nhare\nlynx\nbadger\nmarten\n", encoding="utf-8")
    (tmp_path / "scene").mkdir()
    (tmp_path / "scene" / "night.txt").write_text("under the stars with a __animal__\n", encoding="utf-8")
    from studio.settings import with_overrides

    monkeypatch.setattr(image_ctx, "settings", with_overrides(image_ctx.settings, wildcards_dir=tmp_path))
    return image_ctx


def test_wildcards_are_picked_with_the_seed(wildcard_ctx):
    def drawn(seed, number=1):
        request = ImageRequest(prompt="a __animal__ __scene/night__", image_number=number, **{**SMALL, "seed": seed})
        return [r.prompt for r in generate_images(wildcard_ctx, request, None)]

    four = drawn(10, number=4)
    assert all("__" not in prompt and "under the stars with a" in prompt for prompt in four)
    assert len(set(four)) > 1  # image i picks with seed + i
    assert drawn(12) == [four[2]]  # a seed gives the same words again


def test_a_missing_wildcard_is_left_as_written_with_a_note(wildcard_ctx):
    result = run(wildcard_ctx, prompt="a __nothing_here__ at dusk")
    assert result.prompt == "a __nothing_here__ at dusk"
    assert any("nothing_here.txt" in note for note in result.notes)


def test_metadata_keeps_the_syntax_and_reproduces(wildcard_ctx, tmp_path):
    asked = "a (red __animal__:1.3), [blurry background]"
    first = run(wildcard_ctx, tmp_path / "out", prompt=asked, negative_prompt="(ugly:1.2)")
    found = metadata.read_parameters(first.path)
    assert found["studio"]["request"]["prompt"] == asked  # the request, wildcard and weights as typed
    a1111 = metadata.parse_a1111(first.parameters["a1111"])
    assert a1111["prompt"] == first.prompt and "(red " in a1111["prompt"] and ":1.3)" in a1111["prompt"]
    assert a1111["negative_prompt"] == "(ugly:1.2)"
    again = run(wildcard_ctx, **{k: v for k, v in found["studio"]["request"].items() if k in ("prompt", "negative_prompt", "seed", "width", "height", "steps")})
    assert again.prompt == first.prompt and np.array_equal(pixels(again), pixels(first))
