"""Diffusion text for scripts (issue 29): /diffuse_text, /fill_mask and /noise_text against
`python app.py --profile tiny` with gradio_client, and the same endpoints across ZeroGPU's
fork-and-pickle path (the app built in this process with --zero-gpu-emulate, as
tests/test_zero_gpu.py builds it)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from gradio_client.exceptions import AppError

from studio import zero_gpu
from studio.text.diffusion.selection import REMASKING_RULES

SMALL = {"length": 12, "steps": 6, "block_length": 12}


def _masks(row: list) -> int:
    return sum(token is None for token in row)


def test_diffuse_text_answers_with_steps_whose_masks_never_grow(api):
    out = api.predict(prompt="Why is the sky blue?", seed=3, api_name="/diffuse_text", **SMALL)
    assert out["forward_passes"] == SMALL["steps"] == len(out["steps"])
    masks = [_masks(row) for row in out["steps"]]
    assert all(later <= earlier for earlier, later in zip(masks, masks[1:]))
    assert masks[-1] == 0 and all(len(row) == SMALL["length"] for row in out["steps"])
    # Each step unmasks exactly the positions it names, with a confidence for each.
    before = [SMALL["length"], *masks[:-1]]
    assert [len(positions) for positions in out["unmasked"]] == [b - a for b, a in zip(before, masks)]
    assert all(0.0 <= p <= 1.0 for row in out["confidences"] for p in row)
    assert out["seed"] == 3 and out["stopped_by"] == "finished" and isinstance(out["text"], str)
    again = api.predict(prompt="Why is the sky blue?", seed=3, api_name="/diffuse_text", **SMALL)
    assert again["steps"] == out["steps"]


def test_blocks_and_random_remasking_through_the_api(api):
    out = api.predict(prompt="Hello", length=8, steps=8, block_length=4, remasking="random", seed=1,
                      api_name="/diffuse_text")
    assert out["forward_passes"] == 8 and all(len(positions) == 1 for positions in out["unmasked"])
    # The second block stays masked until the first is done.
    assert all(row[4:] == [None] * 4 for row in out["steps"][:3])


def test_fill_mask_probabilities_are_at_most_one(api):
    out = api.predict(api_name="/fill_mask")  # the slide's 炎龍老師很[MASK][MASK]
    assert out["text"] == "炎龍老師很[MASK][MASK]" and len(out["masks"]) == 2
    for blank in out["masks"]:
        probabilities = [c["probability"] for c in blank["candidates"]]
        assert len(probabilities) == 5 and all(0.0 <= p <= 1.0 for p in probabilities)
        assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1.0 + 1e-6
    assert out["filled"].startswith("炎龍老師很") and "[MASK]" not in out["filled"]


def test_noise_text_masks_more_each_step(api):
    out = api.predict(text="炎龍老師很好笑", mask_ratio=0.3, seed=5, api_name="/noise_text")
    masks = [_masks(row) for row in out["steps"]]
    assert masks[0] == 0 and masks[-1] == len(out["tokens"]) == 7
    assert all(later > earlier for earlier, later in zip(masks, masks[1:]))
    assert out["seed"] == 5 and sorted(out["order"]) == list(range(7))


@pytest.mark.parametrize("arguments, words", [
    ({"length": 0}, "at least 1 token"),
    ({"length": 4, "steps": 8}, "cannot be more than the answer length"),
    ({"remasking": "loudest"}, "Remasking must be"),
    ({"temperature": 9.0}, "Temperature must be between"),
    ({"model_id": "GSAI-ML/LLaDA-8B-Instruct"}, "trust_remote_code"),
])
def test_a_bad_request_gets_a_sentence(api, arguments, words):
    with pytest.raises(AppError, match=words):
        api.predict(prompt="hi", api_name="/diffuse_text", **arguments)


def test_fill_mask_and_noising_refuse_in_sentences(api):
    with pytest.raises(AppError, match=r"at least one \[MASK\]"):
        api.predict(text="炎龍老師很好笑", api_name="/fill_mask")
    with pytest.raises(AppError, match="mask ratio"):
        api.predict(text="炎龍老師很好笑", mask_ratio=0.0, api_name="/noise_text")


def test_view_api_lists_the_remasking_rules_and_the_defaults(api):
    endpoints = api.view_api(print_info=False, return_format="dict")["named_endpoints"]
    parameters = {p["parameter_name"]: p for p in endpoints["/diffuse_text"]["parameters"]}
    assert list(parameters) == ["prompt", "model_id", "length", "steps", "block_length", "remasking", "temperature",
                                "seed"]
    assert parameters["remasking"]["type"]["enum"] == list(REMASKING_RULES)
    assert parameters["length"]["parameter_default"] == 64 and parameters["seed"]["parameter_default"] == -1
    assert {"/fill_mask", "/noise_text"} <= set(endpoints)


# --- across ZeroGPU's fork -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def space(tiny_cache_dir, tmp_path_factory):
    import tabs
    from studio.context import StudioContext
    from studio.settings import load_settings

    settings = load_settings(["--profile", "tiny", "--zero-gpu-emulate", "on", "--cache-dir", str(tiny_cache_dir),
                              "--outputs", str(tmp_path_factory.mktemp("outputs"))], env={})
    demo = tabs.build_app(StudioContext(settings))
    functions = {fn.api_name: fn.fn for fn in demo.fns.values() if fn.api_name}
    return SimpleNamespace(call=lambda api_name, **arguments: functions[api_name](**arguments), demo=demo)


def test_the_endpoints_cross_the_fork_and_ask_for_seconds_by_steps(space):
    from tabs import zero_gpu_twin

    before = len(zero_gpu_twin.durations)
    out = space.call("diffuse_text", prompt="Hello", length=200, steps=200, block_length=200, seed=2)
    assert out["forward_passes"] == 200 and zero_gpu_twin.durations[before:] == [
        zero_gpu.seconds(zero_gpu.text_work(200))]
    assert len(space.call("fill_mask", top_k=3)["masks"][0]["candidates"]) == 3
    assert space.call("noise_text", seed=1)["steps"][-1] == [None] * 7
    assert len(zero_gpu_twin.durations) == before + 3  # each went through ZeroGPU


def test_the_endpoints_are_gpu_work_in_the_shared_queue(space):
    from tabs.common import GPU_QUEUE

    events = {fn.api_name: fn for fn in space.demo.fns.values()}
    assert all(events[name].concurrency_id == GPU_QUEUE for name in ("diffuse_text", "fill_mask", "noise_text"))
    # The page's own buttons queue there too.
    assert any(name.startswith("ui_diffuse") and fn.concurrency_id == GPU_QUEUE for name, fn in events.items())
