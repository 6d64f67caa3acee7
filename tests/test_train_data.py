"""Reading training tables and the bad inputs a student may upload."""

from __future__ import annotations

import json

import pytest

from studio.errors import BadInput
from studio.train import datasets, service
from studio.train.config import TrainConfig


def test_samples_preview_act_prompt_and_labels(tiny_settings):
    causal = service.preview(tiny_settings, "causal_lm", service.SAMPLES["causal_lm"], {"first_rows": 50})
    assert causal["mapping"] == {"prompt_column": "act", "response_column": "prompt"}
    assert causal["rows"] >= 30 and causal["example"].startswith("### Instruction:\nMotivational Coach")
    assert "I want you to act as a motivational coach" in causal["example"]
    classes = service.preview(tiny_settings, "classification", service.SAMPLES["classification"], {})
    assert classes["label_mapping"] == {"negative": 0, "positive": 1}
    assert classes["held_out_rows"] == 8 and classes["train_rows"] == 32


def test_formats_and_responses_only(tmp_path):
    rows = [{"prompt": "Hi", "response": "Hello!"}, {"prompt": "Bye", "response": "See you"}]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    (tmp_path / "a.json").write_text(json.dumps({"data": rows}), encoding="utf-8")
    (tmp_path / "a.txt").write_text("第一行\n\nsecond line\n", encoding="utf-8")
    assert datasets.read_rows(tmp_path / "a.jsonl") == rows == datasets.read_rows(tmp_path / "a.json")
    assert datasets.read_rows(tmp_path / "a.txt") == [{"text": "第一行"}, {"text": "second line"}]
    config = TrainConfig.from_dict({"prompt_column": "prompt", "response_column": "response",
                                    "template": "Q: {prompt}\nA: {response}", "first_rows": 1})
    examples = datasets.causal_examples(rows, config)
    assert [(e.prefix, e.text) for e in examples] == [("Q: Hi\nA: ", "Q: Hi\nA: Hello!")]
    plain = datasets.causal_examples(datasets.read_rows(tmp_path / "a.txt"), TrainConfig.from_dict({"prompt_column": "text"}))
    assert [e.text for e in plain] == ["第一行", "second line"]


@pytest.mark.parametrize("name, content, task, values, message", [
    ("empty.csv", b"", "causal_lm", {}, "is empty"),
    ("header.csv", b"act,prompt\n", "causal_lm", {}, "no rows"),
    ("latin.csv", "act,prompt\nCafé,crème\n".encode("latin-1"), "causal_lm", {}, "not UTF-8"),
    ("cols.csv", b"a,b\n1,2\n", "causal_lm", {"prompt_column": "act"}, "no column 'act'"),
    ("one.csv", b"text,label\ngood,pos\nfine,pos\n", "classification", {}, "only one label"),
    ("many.csv", ("text,label\n" + "".join(f"t{i},l{i}\n" for i in range(150))).encode(), "classification", {"first_rows": 0}, "looks like text"),
    ("blank.csv", b"text,label\ngood,pos\nbad,\n", "classification", {}, "have no label"),
    ("bad.json", b"{not json", "causal_lm", {}, "not valid JSON"),
    ("data.xlsx", b"xx", "causal_lm", {}, "use a .csv"),
])
def test_bad_datasets_are_refused_with_a_sentence(tiny_settings, tmp_path, name, content, task, values, message):
    from studio.train.runner import Runner

    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(BadInput, match=message):
        service.start(tiny_settings, Runner(tmp_path / "out"), "session-t", task, path, values)


def test_training_off_and_zero_gpu_are_refused_with_why(tiny_settings, tmp_path, monkeypatch):
    from studio.settings import load_settings, with_overrides
    from studio.train.runner import Runner

    off = with_overrides(tiny_settings, training="off")
    assert load_settings(["--training", "off"], env={}, cwd=tmp_path).training is False
    with pytest.raises(BadInput, match="--training off"):
        service.start(off, Runner(tmp_path / "out"), "session-t", "causal_lm", service.SAMPLES["causal_lm"], {})
    monkeypatch.setenv("SPACES_ZERO_GPU", "1")
    with pytest.raises(BadInput, match="ZeroGPU.*dedicated GPU hardware"):
        service.start(tiny_settings, Runner(tmp_path / "out"), "session-t", "causal_lm", service.SAMPLES["causal_lm"], {})
