"""The one number check every form field goes through: a value in range, or one sentence."""

from __future__ import annotations

import math

import pytest

from studio.errors import BadInput
from studio.fields import number_between


def test_a_number_in_range_comes_back_as_a_float():
    assert number_between("Denoise", "0.5", 0.01, 1) == 0.5
    assert number_between("Feather", 0, 0, 64, "pixels") == 0.0


@pytest.mark.parametrize("value, said", [
    ("wide", "Feather must be a number of pixels, not 'wide'."),
    (None, "Feather must be a number of pixels, not 'None'."),
    (True, "Feather must be a number of pixels, not True."),
    (math.nan, "Feather must be between 0 and 64 pixels, not nan."),
    (math.inf, "Feather must be between 0 and 64 pixels, not inf."),
    (-1, "Feather must be between 0 and 64 pixels, not -1."),
    ("1" * 400, "Feather must be between 0 and 64 pixels, not inf."),  # a huge string overflows to inf
])
def test_anything_else_is_one_sentence(value, said):
    with pytest.raises(BadInput) as refused:
        number_between("Feather", value, 0, 64, "pixels")
    assert str(refused.value).startswith(said)
