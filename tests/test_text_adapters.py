"""Adapters trained in the Train tab, used from the Text tab on the shared cached base model:
listed per owner and per base, switched per request, never leaking into a plain request."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
import torch

from studio.context import StudioContext
from studio.errors import BadInput
from studio.settings import with_overrides
from studio.text import adapters
from studio.text.explorer import next_token_table
from studio.text.generate import generate_text
from studio.text.results import GenerationRequest
from studio.text.sampling import SamplingSettings
from studio import jobs
from studio.train import service

OWNER = "session-adapter-tests"
BLOOM = "bigscience/bloom-560m"
GREEDY = SamplingSettings(decoding="greedy", max_new_tokens=12)


def write_adapter(settings, owner: str, name: str, seed: int, base_model: str = BLOOM, task: str = "causal_lm") -> str:
    """A finished job folder as the runner leaves it, with a LoRA of random (non-zero) weights,
    so that it visibly changes the model without a training run."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    _, location = service.resolve_model(settings, "causal_lm", base_model)
    torch.manual_seed(seed)
    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(location),
        LoraConfig(r=4, lora_alpha=64, target_modules=["query_key_value"], init_lora_weights=False),
    )
    job_id = jobs.new_job_id()
    folder = jobs.root(settings.outputs) / owner / job_id
    folder.mkdir(parents=True)
    model.save_pretrained(folder / "adapter")
    jobs.write_json(folder / "job.json", {
        "name": name, "base_model": base_model, "model_path": location, "config": {"task": task}, "created": 0,
    })
    return job_id


@pytest.fixture()
def setup(tiny_settings, tmp_path):
    settings = with_overrides(tiny_settings, outputs=str(tmp_path / "outputs"))
    return settings, StudioContext(settings)


def reply(ctx, adapter=None, prompt="The sea"):
    request = GenerationRequest(prompt, mode="completion", model_id=BLOOM, settings=GREEDY, seed=0, adapter=adapter)
    return generate_text(ctx, request)


def fingerprint(result) -> tuple:
    """The reply and how likely each of its tokens was (a random twin may say the same words)."""
    return result.text, tuple(round(token.probability, 5) for token in result.tokens)


def test_only_the_owners_adapters_for_the_model_in_use_are_listed(setup):
    settings, _ = setup
    mine = write_adapter(settings, OWNER, "coach", 1)
    write_adapter(settings, "session-someone-else", "theirs", 2)
    write_adapter(settings, OWNER, "classifier", 3, task="classification")
    assert [a.job_id for a in adapters.available(settings, OWNER, BLOOM)] == [mine]
    assert adapters.available(settings, OWNER, "openai-community/gpt2") == []
    assert adapters.resolve(settings, OWNER, BLOOM, "") is None
    assert adapters.resolve(settings, OWNER, BLOOM, mine).name == "coach"
    with pytest.raises(BadInput, match="No finished text adapter"):
        adapters.resolve(settings, "session-someone-else", BLOOM, mine)  # not theirs
    with pytest.raises(BadInput, match="No finished text adapter"):
        adapters.resolve(settings, OWNER, "openai-community/gpt2", mine)  # trained on another model
    with pytest.raises(BadInput, match="limit is 64"):
        adapters.resolve(settings, OWNER, BLOOM, "../" * 100)


def test_an_adapter_changes_the_reply_and_leaves_the_shared_model_clean(setup):
    settings, ctx = setup
    job_id = write_adapter(settings, OWNER, "coach", 1)
    adapter = adapters.resolve(settings, OWNER, BLOOM, job_id)
    plain = reply(ctx)
    tuned = reply(ctx, adapter)
    assert tuned.adapter == adapter.label and plain.adapter == ""
    assert fingerprint(tuned) != fingerprint(plain)
    again = reply(ctx)  # the adapter stays loaded in the cached model, but switched off
    assert fingerprint(again) == fingerprint(plain)
    assert fingerprint(reply(ctx, adapter)) == fingerprint(tuned)  # switched back on: no second load needed
    assert ctx.cache.stats()["misses"] == 1  # one base model loaded for all of it


def test_the_explorer_sees_the_adapter_too(setup):
    settings, ctx = setup
    adapter = adapters.resolve(settings, OWNER, BLOOM, write_adapter(settings, OWNER, "coach", 1))
    plain = next_token_table(ctx, "The sea", SamplingSettings(), 5, BLOOM)
    tuned = next_token_table(ctx, "The sea", SamplingSettings(), 5, BLOOM, adapter)
    assert [c.as_row() for c in plain.candidates] != [c.as_row() for c in tuned.candidates]
    assert [c.as_row() for c in next_token_table(ctx, "The sea", SamplingSettings(), 5, BLOOM).candidates] == [
        c.as_row() for c in plain.candidates
    ]


def test_two_users_at_once_each_get_what_they_asked_for(setup):
    """One with an adapter, one without, started together: each reply is what it is alone."""
    settings, ctx = setup
    first = adapters.resolve(settings, OWNER, BLOOM, write_adapter(settings, OWNER, "coach", 1))
    second = adapters.resolve(settings, OWNER, BLOOM, write_adapter(settings, OWNER, "chef", 2))
    alone = {name: fingerprint(reply(ctx, adapter)) for name, adapter in (("plain", None), ("first", first), ("second", second))}
    assert len(set(alone.values())) == 3
    together: list[tuple[str, tuple]] = []
    wanted = [("plain", None), ("first", first), ("second", second)] * 2
    threads = [
        threading.Thread(target=lambda n=n, a=a: together.append((n, fingerprint(reply(ctx, a))))) for n, a in wanted
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(together) == len(wanted) and all(found == alone[name] for name, found in together)


def test_an_adapter_needs_the_local_backend(setup):
    settings, ctx = setup
    from studio.text.service import endpoint_for, stream_generation

    adapter = adapters.resolve(settings, OWNER, BLOOM, write_adapter(settings, OWNER, "coach", 1))
    request = GenerationRequest("hi", model_id=BLOOM, adapter=adapter)
    with pytest.raises(BadInput, match="local backend only"):
        stream_generation(ctx, request, endpoint_for(settings, "openai", "http://127.0.0.1:9/v1", "m"))
    with pytest.raises(BadInput, match="picked from your trained adapters"):
        generate_text(ctx, replace(request, adapter="/etc/passwd"))


def test_the_shared_model_with_an_adapter_gives_peft_models_own_logits(setup):
    """The reference: PEFT's own PeftModel.from_pretrained on a fresh copy of the base."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    settings, ctx = setup
    adapter = adapters.resolve(settings, OWNER, BLOOM, write_adapter(settings, OWNER, "coach", 1))
    _, location = service.resolve_model(settings, "causal_lm", BLOOM)
    reference = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(location), adapter.path).eval()
    ids = torch.tensor([[5, 17, 42, 99, 7]])
    with adapters.using(ctx, ctx.spec("text", BLOOM), adapter) as text_model, torch.inference_mode():
        ours = text_model.model(ids).logits
    with torch.inference_mode():
        assert torch.allclose(ours, reference(ids).logits, atol=1e-5)
        with reference.disable_adapter():
            base = reference(ids).logits
    with adapters.using(ctx, ctx.spec("text", BLOOM)) as text_model, torch.inference_mode():
        assert torch.allclose(text_model.model(ids).logits, base, atol=1e-5)


def test_a_broken_adapter_is_refused_and_leaves_nothing_behind(setup):
    settings, ctx = setup
    job_id = write_adapter(settings, OWNER, "coach", 1)
    adapter = adapters.resolve(settings, OWNER, BLOOM, job_id)
    weights = jobs.root(settings.outputs) / OWNER / job_id / "adapter" / adapters.WEIGHTS
    plain = fingerprint(reply(ctx))
    weights.write_bytes(b"not a safetensors file")
    for _ in range(2):  # a retry is refused too: no zero-weight adapter was left to switch on
        with pytest.raises(BadInput, match="could not be loaded"):
            reply(ctx, adapter)
    with adapters.using(ctx, ctx.spec("text", BLOOM)) as text_model:
        assert text_model.adapters == []
        assert not any("lora_" in name for name, _ in text_model.model.named_parameters())
    assert fingerprint(reply(ctx)) == plain


def test_the_oldest_adapter_is_unloaded_past_the_limit(setup, monkeypatch):
    settings, ctx = setup
    monkeypatch.setattr(adapters, "MAX_LOADED", 2)
    made = [adapters.resolve(settings, OWNER, BLOOM, write_adapter(settings, OWNER, f"a{i}", i)) for i in range(3)]
    first = fingerprint(reply(ctx, made[0]))
    for adapter in made[1:]:
        reply(ctx, adapter)
    with adapters.using(ctx, ctx.spec("text", BLOOM)) as text_model:
        assert text_model.adapters == [made[1].adapter_name, made[2].adapter_name]
    assert fingerprint(reply(ctx, made[0])) == first  # loaded again, the same as before


def test_a_beam_search_with_an_adapter_while_another_user_waits_for_another(setup):
    """The beam search's worker thread holds the model through its stream's own hold, so a
    request queued for another adapter neither overtakes it nor deadlocks with it."""
    settings, ctx = setup
    first = adapters.resolve(settings, OWNER, BLOOM, write_adapter(settings, OWNER, "coach", 1))
    second = adapters.resolve(settings, OWNER, BLOOM, write_adapter(settings, OWNER, "chef", 2))
    beam = replace(GREEDY, decoding="beam", num_beams=3)

    def beam_reply(adapter):
        return fingerprint(generate_text(ctx, GenerationRequest("The sea", mode="completion", model_id=BLOOM,
                                                                settings=beam, seed=0, adapter=adapter)))

    alone = (beam_reply(first), fingerprint(reply(ctx, second)))
    found: dict[str, tuple] = {}
    threads = [threading.Thread(target=lambda: found.__setitem__("beam", beam_reply(first))),
               threading.Thread(target=lambda: found.__setitem__("other", fingerprint(reply(ctx, second))))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert (found.get("beam"), found.get("other")) == alone
