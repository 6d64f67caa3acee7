"""Diffusion text on the tiny twins: the masks only shrink, one pass per step, seeds reproduce,
low confidence keeps the surest guess, blocks go left to right, Stop ends within a step; the
fill-mask panel, forward noising, and every refusal in a sentence."""

from __future__ import annotations

import json
import pickle
import shutil
import threading

import pytest
import torch

from studio.errors import BadInput
from studio.models import tiny
from studio.models.loaders import LoadRequest
from studio.progress import CancelFlag
from studio.replicated import REGISTRY
from studio.text.diffusion.fill_mask import fill_mask
from studio.text.diffusion.loading import check_config, load_masked_lm, require_mask_token
from studio.text.diffusion.noising import forward_noising
from studio.text.diffusion.request import DiffusionRequest, check_request
from studio.text.diffusion.sampler import denoise
from studio.text.diffusion.schedule import plan_blocks, share_steps, unmask_counts
from studio.text.diffusion.selection import choose_tokens, positions_to_keep
from studio.text.diffusion.stream import diffuse_text, stream_diffusion

PROMPT = "What does a diffusion model do?"
MASK = 99  # the fake models' mask id


def _masks(row: list[str | None]) -> int:
    return sum(token is None for token in row)


@pytest.fixture
def forward_calls(studio_ctx, monkeypatch):
    """Counts the diffusion twin's forward passes."""
    model = studio_ctx.cache.get(studio_ctx.spec("diffusion_text")).model
    calls = []
    original = model.forward

    def forward(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(model, "forward", forward)
    return calls


def _fixed_forward(probabilities: list[list[float]], prompt_length: int = 0):
    """A fake model: the same logits every pass; answer row i has the given distribution."""
    logits = torch.log(torch.tensor(probabilities))

    def forward(ids: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(1, ids.shape[1], logits.shape[-1])
        out[0, prompt_length:prompt_length + len(logits)] = logits
        return out

    return forward


# -- the schedule ------------------------------------------------------------------------------

def test_the_schedule_spreads_tokens_evenly_and_gives_every_block_a_step():
    assert unmask_counts(10, 4) == [3, 3, 2, 2]
    assert share_steps([4, 4, 2], 5) == [2, 2, 1]
    blocks = plan_blocks(10, 4, 9)
    assert [(b.start, b.stop) for b in blocks] == [(0, 4), (4, 8), (8, 10)]
    assert sum(b.steps for b in blocks) == 9 and all(1 <= b.steps <= b.size for b in blocks)
    assert all(count >= 1 for b in blocks for count in b.unmask_counts())


# -- the sampler with a real (tiny) model --------------------------------------------------------

def test_masks_never_grow_and_are_gone_at_the_last_step(studio_ctx):
    result = diffuse_text(studio_ctx, DiffusionRequest(PROMPT, length=24, steps=8, block_length=12, seed=1))
    counts = [_masks(row) for row in result.steps]
    assert counts[0] < 24
    assert all(later <= earlier for earlier, later in zip(counts, counts[1:]))
    assert counts[-1] == 0 and len(result.steps) == 8
    assert result.stopped_by == "finished"


def test_steps_equal_to_length_unmask_exactly_one_position_per_step(studio_ctx):
    result = diffuse_text(studio_ctx, DiffusionRequest(PROMPT, length=10, steps=10, block_length=5, seed=2))
    assert [len(positions) for positions in result.unmasked] == [1] * 10
    assert [_masks(row) for row in result.steps] == list(range(9, -1, -1))
    assert sorted(p for positions in result.unmasked for p in positions) == list(range(10))


def test_one_forward_pass_per_step(studio_ctx, forward_calls):
    result = diffuse_text(studio_ctx, DiffusionRequest(PROMPT, length=16, steps=6, block_length=8, seed=3))
    assert len(forward_calls) == result.forward_passes == len(result.steps) == 6


def test_a_seed_reproduces_the_text_and_every_step(studio_ctx):
    request = DiffusionRequest(PROMPT, length=16, steps=8, block_length=16, remasking="random", temperature=1.0, seed=7)
    first, again = diffuse_text(studio_ctx, request), diffuse_text(studio_ctx, request)
    assert (first.text, first.steps, first.unmasked) == (again.text, again.steps, again.unmasked)
    drawn = diffuse_text(studio_ctx, DiffusionRequest(PROMPT, length=16, steps=8, temperature=1.0, seed=-1))
    assert drawn.seed >= 0  # a random seed is reported back, and replays the run
    replay = diffuse_text(studio_ctx, DiffusionRequest(PROMPT, length=16, steps=8, temperature=1.0, seed=drawn.seed))
    assert replay.steps == drawn.steps


def test_block_length_keeps_later_blocks_masked_until_earlier_ones_are_done(studio_ctx):
    length, block = 12, 4
    result = diffuse_text(studio_ctx, DiffusionRequest(PROMPT, length=length, steps=6, block_length=block, seed=4))
    for row, positions in zip(result.steps, result.unmasked):
        current = positions[0] // block
        assert all(p // block == current for p in positions)
        assert all(token is not None for token in row[: current * block])  # earlier blocks complete
        assert all(token is None for token in row[(current + 1) * block:])  # later ones untouched


def test_blocks_win_over_confidence(studio_ctx):
    """Even when the last block's guesses are the surest, the first block is filled first."""
    rows = [[0.4, 0.3, 0.3]] * 2 + [[0.98, 0.01, 0.01]] * 2
    sequence = torch.full((1, 4), MASK)
    steps = list(denoise(_fixed_forward(rows), sequence, 0, MASK, plan_blocks(4, 2, 4), "low_confidence", 0.0, None))
    assert [s.positions for s in steps] == [[0], [1], [2], [3]]


def test_low_confidence_unmasks_the_most_probable_position_first():
    rows = [[0.50, 0.25, 0.25], [0.90, 0.05, 0.05], [0.20, 0.70, 0.10], [0.34, 0.33, 0.33]]
    prompt = 3
    sequence = torch.tensor([[7, 8, 9] + [MASK] * 4])
    steps = list(denoise(_fixed_forward(rows, prompt), sequence, prompt, MASK, plan_blocks(4, 4, 4), "low_confidence", 0.0, None))
    assert [s.positions for s in steps] == [[1], [2], [0], [3]]
    assert [s.token_ids for s in steps] == [[0], [1], [0], [0]]
    assert steps[0].confidences == pytest.approx([0.90])
    assert sequence[0, prompt:].tolist() == [0, 0, 1, 0] and sequence[0, :prompt].tolist() == [7, 8, 9]


def test_the_selection_functions_directly():
    tokens, confidences = choose_tokens(torch.log(torch.tensor([[0.1, 0.9], [0.6, 0.4]])), temperature=0.0)
    assert tokens.tolist() == [1, 0] and confidences.tolist() == pytest.approx([0.9, 0.6])
    assert positions_to_keep(torch.tensor([0.2, 0.9, 0.5]), 2, "low_confidence").tolist() == [1, 2]
    picks = {tuple(positions_to_keep(torch.tensor([0.2, 0.9, 0.5]), 1, "random", torch.Generator().manual_seed(s)).tolist())
             for s in range(20)}
    assert len(picks) > 1  # random ignores the confidences


@pytest.mark.parametrize("flag", [threading.Event, CancelFlag], ids=["event", "cancel-flag"])
def test_stop_ends_within_a_step(studio_ctx, forward_calls, flag):
    cancel = flag()
    updates = []
    for update in stream_diffusion(studio_ctx, DiffusionRequest(PROMPT, length=16, steps=16, block_length=16, seed=5), cancel):
        updates.append(update)
        if update.step.step == 2:
            cancel.set()
    result = updates[-1].result
    assert len(forward_calls) == 2 and result.forward_passes == 2
    assert result.stopped_by == "stopped by you" and _masks(result.steps[-1]) == 14


def test_a_closed_stream_lets_go_of_the_model(studio_ctx):
    spec = studio_ctx.spec("diffusion_text")
    stream = stream_diffusion(studio_ctx, DiffusionRequest(PROMPT, length=8, steps=8, seed=6))
    next(stream), next(stream)
    stream.close()
    entry = next(e for e in studio_ctx.cache.stats()["models"] if e["key"] == list(spec.key))
    assert entry["in_use"] == 0


def test_the_stream_starts_with_all_masks_and_its_records_cross_a_pickle(studio_ctx):
    updates = list(stream_diffusion(studio_ctx, DiffusionRequest(PROMPT, length=6, steps=3, block_length=6, seed=8)))
    first, last = updates[0], updates[-1]
    assert first.step.step == 0 and first.step.tokens == [None] * 6 and first.result is None
    assert "[Question]" in first.prompt_seen and first.prompt_seen.endswith("[Answer]\n")  # the twin's chat template
    assert [u.step.forward_passes for u in updates[1:-1]] == [1, 2, 3]
    assert all(len(u.step.unmasked) == len(u.step.confidences) == 2 for u in updates[1:])
    assert all(0.0 <= p <= 1.0 for u in updates[1:] for p in u.step.confidences)
    assert pickle.loads(pickle.dumps(last)) == last
    summary = json.loads(json.dumps(last.result.summary()))
    assert summary["forward_passes"] == 3 and len(summary["steps"]) == 3 and isinstance(summary["text"], str)
    assert "tiny:modernbert-chat" in summary["model"]


def test_the_stream_is_marked_for_replicas_like_the_text_stream():
    entry = REGISTRY["diffuse_text"]
    assert entry.streams and entry.cancel == "cancel"
    assert entry.route({"request": DiffusionRequest(PROMPT)}) == "diffusion_text:default"
    assert REGISTRY["fill_mask"].route({"model_id": ""}) == "fill_mask:default"


# -- the fill-mask panel and forward noising -----------------------------------------------------

def test_fill_mask_shows_candidates_whose_probabilities_sum_to_at_most_one(studio_ctx):
    result = fill_mask(studio_ctx, "炎龍老師很[MASK][MASK]", top_k=5)
    assert result.tokens[1:6] == list("炎龍老師很")  # one token per character, as bert-base-chinese reads it
    assert [m.index for m in result.masks] == [6, 7]
    for guess in result.masks:
        assert len(guess.candidates) == 5
        probabilities = [p for _, p in guess.candidates]
        assert probabilities == sorted(probabilities, reverse=True)
        assert 0.0 < sum(probabilities) <= 1.0
        assert not {word for word, _ in guess.candidates} & {"[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]"}
    assert result.filled.startswith("炎龍老師很") and "[MASK]" not in result.filled


def test_forward_noising_masks_more_each_step_until_only_masks_are_left(studio_ctx):
    result = forward_noising(studio_ctx, "炎龍老師很好笑", mask_ratio=0.3, seed=11)
    assert result.tokens == list("炎龍老師很好笑") and result.steps[0] == result.tokens
    counts = [_masks(row) for row in result.steps]
    assert counts == [0, 2, 4, 6, 7]
    assert result.steps[-1] == [None] * 7
    assert forward_noising(studio_ctx, "炎龍老師很好笑", mask_ratio=0.3, seed=11).steps == result.steps
    with pytest.raises(BadInput, match="mask ratio"):
        forward_noising(studio_ctx, "炎龍老師很好笑", mask_ratio=0)


# -- refusals, each a sentence -------------------------------------------------------------------

@pytest.mark.parametrize("fields, words", [
    (dict(length=0), "at least 1 token"),
    (dict(length=8, steps=9, block_length=8), "cannot be more than the answer length"),
    (dict(steps=0), "at least 1"),
    (dict(length=8, steps=4, block_length=0), "block length must be at least 1 token"),
    (dict(length=8, steps=2, block_length=2), "at least 4 steps"),
    (dict(remasking="loudest"), "low_confidence"),
    (dict(temperature=-1), "Temperature"),
    (dict(length="many"), "must be a number"),
])
def test_bad_requests_are_refused_with_a_sentence(fields, words):
    with pytest.raises(BadInput, match=words) as caught:
        check_request(DiffusionRequest(PROMPT, **fields))
    assert str(caught.value).endswith(".")


def test_a_block_longer_than_the_answer_is_the_whole_answer():
    assert check_request(DiffusionRequest(PROMPT, length=8, steps=4, block_length=32)).block_length == 8


def test_a_chat_model_needs_a_prompt(studio_ctx):
    with pytest.raises(BadInput, match="empty"):
        diffuse_text(studio_ctx, DiffusionRequest("   "))


def test_a_model_without_a_mask_token_is_refused_before_its_weights_load(studio_ctx, tmp_path):
    twin = tiny.ensure_built("modernbert-chat", studio_ctx.settings.tiny_dir)
    folder = tmp_path / "no-mask"
    folder.mkdir()
    shutil.copy(twin / "config.json", folder / "config.json")  # no weights: they must not be needed
    from transformers.models.auto.tokenization_auto import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(twin)
    tokenizer.mask_token = None
    tokenizer.save_pretrained(folder)
    with pytest.raises(BadInput, match="has no mask token, so there is nothing for diffusion to unmask"):
        load_masked_lm(LoadRequest(str(folder), None, None, None, torch.float32))
    with pytest.raises(BadInput, match="no mask token"):
        require_mask_token(tokenizer, "that model")


def test_remote_code_models_are_refused_with_the_reason(studio_ctx, tmp_path):
    before = len(studio_ctx.cache.stats()["models"])
    with pytest.raises(BadInput, match="needs trust_remote_code .*modeling_llada.py"):
        diffuse_text(studio_ctx, DiffusionRequest(PROMPT, model_id="GSAI-ML/LLaDA-8B-Instruct"))
    with pytest.raises(BadInput, match="modeling_dream.py"):
        check_request(DiffusionRequest(PROMPT, model_id="Dream-org/Dream-v0-Instruct-7B"))
    assert len(studio_ctx.cache.stats()["models"]) == before  # refused at the door, nothing loaded
    # Any other id: its config.json decides, before the weights are fetched.
    llada_like = {"model_type": "llada", "architectures": ["LLaDAModelLM"],
                  "auto_map": {"AutoConfig": "configuration_llada.LLaDAConfig",
                               "AutoModel": "someone/LLaDA--modeling_llada.LLaDAModelLM"}}
    (tmp_path / "config.json").write_text(json.dumps(llada_like))
    with pytest.raises(BadInput, match="trust_remote_code .*modeling_llada.py"):
        load_masked_lm(LoadRequest(str(tmp_path), None, None, None, torch.float32))
    with pytest.raises(BadInput, match="not a masked language model"):
        check_config({"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"]}, "Qwen/Qwen2.5-0.5B-Instruct")
    check_config({"model_type": "modernbert", "architectures": ["ModernBertForMaskedLM"]}, "any ModernBERT")


def test_fill_mask_refusals(studio_ctx):
    with pytest.raises(BadInput, match=r"at least one \[MASK\]"):
        fill_mask(studio_ctx, "炎龍老師很幽默")
    with pytest.raises(BadInput, match="Top-k"):
        fill_mask(studio_ctx, "炎龍老師很[MASK]", top_k=0)


# -- the twins ---------------------------------------------------------------------------------

def test_the_twins_are_the_real_families(studio_ctx):
    diffusion = studio_ctx.cache.get(studio_ctx.spec("diffusion_text"))
    assert type(diffusion.model).__name__ == "ModernBertForMaskedLM"
    assert diffusion.tokenizer.mask_token == "[MASK]" and diffusion.tokenizer.chat_template
    chinese = studio_ctx.cache.get(studio_ctx.spec("fill_mask"))
    assert type(chinese.model).__name__ == "BertForMaskedLM"
    assert chinese.tokenizer.tokenize("炎龍老師很幽默") == list("炎龍老師很幽默")
