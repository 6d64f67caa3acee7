"""Fooocus-style arrays on the tiny twins: ``[[red, blue, green]] fox`` draws one image per item
with the same seed, each image's metadata carries its item; a single ``[x]`` keeps A1111's
meaning (÷ 1.1)."""

from __future__ import annotations

import numpy as np
import pytest

from studio.errors import BadInput
from studio.image import prompt_arrays, prompt_syntax
from studio.image.generate import _rest, generate_images
from studio.image.request import ImageRequest, images_in
from studio.pictures import metadata
from tests.image_helpers import image_ctx, pixels  # noqa: F401  (fixture)

SMALL = dict(width=256, height=256, steps=2)


def run(ctx, folder=None, **fields):
    return generate_images(ctx, ImageRequest(**{**SMALL, **fields}), folder)


def test_items_are_picked_in_fooocus_order_the_first_array_fastest():
    prompt = "a [[red, blue,green]] fox in [[snow,rain]]"
    assert prompt_arrays.combinations(prompt) == 6
    picked = [prompt_arrays.pick(prompt, i) for i in range(6)]
    assert [p.items for p in picked] == [("red", "snow"), ("blue", "snow"), ("green", "snow"),
                                         ("red", "rain"), ("blue", "rain"), ("green", "rain")]
    assert picked[4].prompt == "a blue fox in rain"
    assert prompt_arrays.pick("no arrays here", 3).prompt == "no arrays here"


def test_a_single_bracket_keeps_a1111s_meaning_and_an_escaped_one_is_text():
    assert prompt_arrays.combinations("[fox] in snow") == 1
    assert prompt_syntax.fragments("[fox] in snow") == [("fox", pytest.approx(1 / 1.1)), (" in snow", 1.0)]
    assert prompt_arrays.combinations(r"\[[a, b]] fox") == 1  # written as brackets
    assert prompt_arrays.pick("[[red, blue]] [fox]", 1).prompt == "blue [fox]"  # an array next to a weight


def test_an_array_draws_one_image_per_item_with_the_same_seed_and_says_which(image_ctx, tmp_path):
    results = run(image_ctx, tmp_path, prompt="a [[red,blue,green]] fox", seed=21)
    assert len(results) == 3 and {r.seed for r in results} == {21}
    assert [r.prompt for r in results] == ["a red fox", "a blue fox", "a green fox"]
    for item, result in zip(("red", "blue", "green"), results):
        resolved = result.parameters["resolved"]
        assert resolved["array_items"] == [item] and result.parameters["request"]["prompt"] == f"a {item} fox"
        saved = metadata.read_parameters(result.path)
        assert saved["studio"]["resolved"]["array_items"] == [item]
        assert metadata.parse_a1111(saved["parameters"])["prompt"] == f"a {item} fox"
    # Each one is exactly that item's prompt at that seed, and restoring the PNG draws it again.
    assert np.array_equal(pixels(results[1]), pixels(run(image_ctx, prompt="a blue fox", seed=21)[0]))
    restored = ImageRequest.from_parameters(metadata.read_parameters(results[2].path)["studio"]["request"])
    assert np.array_equal(pixels(results[2]), pixels(generate_images(image_ctx, restored, None)[0]))


def test_image_number_counts_seeds_and_each_seed_draws_every_item(image_ctx):
    request = ImageRequest(prompt="[[a cat, a dog]] on a sofa", seed=5, image_number=2, **SMALL)
    assert images_in(request) == 4
    results = generate_images(image_ctx, request, None)
    assert [(r.seed, r.parameters["resolved"]["array_items"][0]) for r in results] == [
        (5, "a cat"), (5, "a dog"), (6, "a cat"), (6, "a dog")]
    # A replica lost after three images: the cluster finishes the rest with whole seeds.
    again = _rest({"request": request}, results[:2])["request"]
    assert (again.seed, again.image_number) == (6, 1)


def test_too_many_images_is_a_sentence(image_ctx):
    with pytest.raises(BadInput, match="arrays give 5 images for each seed.*limit is 8"):
        run(image_ctx, prompt="[[a,b,c,d,e]] fox", image_number=2, seed=1)
