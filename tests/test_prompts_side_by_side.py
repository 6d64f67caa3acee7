"""Teach it: the same seed drawn from the original prompt and from the English one."""

from __future__ import annotations

import numpy as np
import pytest

from studio.errors import BadInput
from studio.image.generate import generate_images
from studio.image.request import ImageRequest
from studio.prompts.side_by_side import side_by_side
from tests.image_helpers import image_ctx, pixels  # noqa: F401  (fixture)

ORIGINAL, ENGLISH = "一隻在雪地裡的紅狐狸", "a red fox standing in deep snow, wildlife photograph"
SMALL = dict(width=256, height=256, steps=2)


def test_both_images_share_one_seed_and_differ_only_by_the_prompt(image_ctx, tmp_path):
    pair = side_by_side(image_ctx, ORIGINAL, ENGLISH, "blurry", seed=21, folder=tmp_path, **SMALL)
    assert pair.seed == pair.original.seed == pair.expanded.seed == 21
    assert (pair.original.prompt, pair.expanded.prompt) == (ORIGINAL, ENGLISH)
    assert pair.original.image.size == pair.expanded.image.size == (256, 256)
    assert pair.original.path and pair.expanded.path
    # Each is exactly what the Image tab draws for that prompt and seed.
    again = generate_images(image_ctx, ImageRequest(prompt=ENGLISH, negative_prompt="blurry", seed=21, **SMALL), None)[0]
    assert np.array_equal(pixels(again), pixels(pair.expanded))
    assert not np.array_equal(pixels(pair.original), pixels(pair.expanded))


def test_a_random_seed_is_drawn_once_for_both(image_ctx):
    pair = side_by_side(image_ctx, ORIGINAL, ENGLISH, seed=-1, **SMALL)
    assert pair.original.seed == pair.expanded.seed >= 0


def test_nothing_to_compare_is_refused(image_ctx):
    with pytest.raises(BadInput, match="Expand a prompt first"):
        side_by_side(image_ctx, ORIGINAL, "", **SMALL)
