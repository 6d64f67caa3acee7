"""Trainable-parameter counts and memory estimates from configs on the meta device."""

from __future__ import annotations

import pytest

from studio.errors import BadInput
from studio.train import service
from studio.train.config import TrainConfig
from studio.train.estimate import estimate


def test_bloom_560m_r4_on_query_key_value_matches_the_class():
    from transformers import BloomConfig

    # bloom-560m's published sizes; no weights are downloaded or allocated.
    config = BloomConfig(hidden_size=1024, n_layer=24, n_head=16, vocab_size=250_880)
    result = estimate(config, TrainConfig.from_dict({"r": 4, "dropout": 0.05}))
    assert result["target_modules"] == ["query_key_value"]
    # Per layer: A is 4 x 1024, B is 3072 x 4.
    assert result["trainable_parameters"] == 24 * (4 * 1024 + 3 * 1024 * 4) == 393_216
    assert result["total_parameters"] == 559_607_808
    assert result["trainable_percent"] == pytest.approx(0.0703, abs=1e-4)
    assert result["memory_gb"] > 2  # at least the fp32 weights
    assert sum(result["memory_parts_gb"].values()) == pytest.approx(result["memory_gb"], abs=0.01)


def test_estimate_of_the_tiny_twin_equals_the_hand_count(tiny_settings):
    result = service.estimate(tiny_settings, "causal_lm", "bigscience/bloom-560m", {"r": 4})
    hidden, layers = 64, 2  # the bloom twin's sizes (studio.text.tiny_twins)
    assert result["trainable_parameters"] == layers * (4 * hidden + 3 * hidden * 4)


def test_target_override_and_unknown_target(tiny_settings):
    both = service.estimate(tiny_settings, "causal_lm", "", {"r": 2, "target_modules": "query_key_value, dense"})
    assert both["target_modules"] and set(both["target_modules"]) == {"query_key_value", "dense"}
    with pytest.raises(BadInput, match="no layer named q_proj"):
        service.estimate(tiny_settings, "causal_lm", "", {"target_modules": ["q_proj"]})


@pytest.mark.parametrize("values, message", [
    ({"r": 0}, "rank r must be between 1"),
    ({"dropout": 1.5}, "dropout"),
    ({"learning_rate": 0}, "learning rate"),
    ({"scheduler": "wild"}, "Scheduler must be one of"),
    ({"batch_size": 2.5}, "whole number"),
    ({"adapter_name": "../evil"}, "may not contain slashes"),
    ({"adapter_name": "a/b"}, "may not contain slashes"),
    ({"nonsense": 1}, "Unknown training setting"),
])
def test_bad_settings_are_sentences(values, message):
    with pytest.raises(BadInput, match=message):
        TrainConfig.from_dict(values)
