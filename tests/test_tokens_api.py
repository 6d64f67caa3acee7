"""The Tokenizer tab's API, driven with gradio_client against `python app.py --profile tiny`."""

from __future__ import annotations

import numpy as np
import pytest
from gradio_client import handle_file
from PIL import Image

CHINESE = "炎龍老師很幽默"


def test_tokenize_hello_world_with_the_real_gpt2_folder(api, reference_gpt2):
    result = api.predict(text="Hello world", tokenizer=reference_gpt2, api_name="/tokenize")
    assert result["detail"] == "compact" and result["ids"] == [15496, 995]
    assert ["Hello world"[s:e] for s, e in zip(result["starts"], result["ends"])] == ["Hello", " world"]
    assert [result["pieces"][str(i)] for i in result["ids"]] == ["Hello", "Ġworld"]
    assert result["counts"]["tokens"] == 2 and result["round_trip"]["ok"]


def test_tokenize_chinese_reports_byte_pieces_and_counts(api):
    result = api.predict(text=CHINESE, tokenizer="openai-community/gpt2", clip_check=True,
                         api_name="/tokenize")
    counts = result["counts"]
    assert counts["characters"] == 7 and counts["utf8_bytes"] == 21
    assert counts["tokens"] == len(result["ids"]) == len(result["starts"]) == len(result["ends"])
    assert all(str(i) in result["pieces"] for i in result["ids"])
    partial = [i for i in result["ids"] if str(i) in result["byte_pieces"]]
    assert counts["partial_byte_tokens"] == len(partial) > 0
    # The byte pieces' bytes are pieces of the text's UTF-8.
    assert all(bytes.fromhex(result["byte_pieces"][str(i)]) in CHINESE.encode() for i in partial)
    assert result["clip"]["limit"] == 77 and not result["clip"]["overflow"]
    assert "tokens" not in result and "chips" not in result  # the full detail is asked for


def test_tokenize_full_detail_gives_every_token_and_the_chips(api):
    compact = api.predict(text=CHINESE, tokenizer="openai-community/gpt2", api_name="/tokenize")
    full = api.predict(text=CHINESE, tokenizer="openai-community/gpt2", detail="full", api_name="/tokenize")
    assert full["detail"] == "full" and full["ids"] == compact["ids"]
    assert [t["id"] for t in full["tokens"]] == compact["ids"]
    assert [t["start"] for t in full["tokens"]] == compact["starts"]
    assert all(t["bytes_hex"] for t in full["tokens"])
    assert "".join(c["text"] for c in full["chips"]) == CHINESE


def test_compare_tokenizers(api, reference_gpt2):
    from transformers import AutoTokenizer

    real_count = len(AutoTokenizer.from_pretrained(reference_gpt2)("unbelievable 老師")["input_ids"])
    names = [reference_gpt2, "google-bert/bert-base-chinese"]
    result = api.predict(text="unbelievable 老師", tokenizers=names, api_name="/compare_tokenizers")
    assert [row["tokenizer"] for row in result["rows"]] == names
    assert result["rows"][0]["tokens"] == real_count


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"text": ""}, "Type or paste"),
        ({"text": "x" * 1_048_576}, "at most 200,000"),
        ({"text": "hi", "tokenizer": "someone/not-a-model"}, "no tokenizer"),
        ({"text": "hi", "tokenizer": "a" * 600}, "at most 500 characters"),
        ({"text": "hi", "detail": "everything"}, 'Detail must be one of compact, full'),
        ({"text": "字" * 40_001, "detail": "full"}, "at most 40,000 characters"),
    ],
)
def test_tokenize_bad_input_gives_a_readable_error(api, kwargs, message):
    with pytest.raises(Exception, match=message):
        api.predict(**kwargs, api_name="/tokenize")


def test_image_tokens(api, tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(path)
    info, original, reconstruction, heatmap, summary = api.predict(
        image=handle_file(str(path)), vq_model="amused/amused-256", max_side=256, api_name="/image_tokens"
    )
    assert (info["rows"], info["cols"]) == (12, 16) and info["codebook_size"] == 256
    assert len(info["grid"]) == 12 and all(len(row) == 16 for row in info["grid"])
    assert Image.open(reconstruction).size == (64, 48) == Image.open(original).size
    assert "vq-grid" in heatmap and "192" in summary


def test_image_tokens_refuses_a_non_image(api, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    fake = tmp_path / "fake.png"  # the right extension, but no picture inside
    fake.write_text("not a picture either")
    for path, message in ((notes, "Invalid file type"), (fake, r"\(fake.png\) is not a picture this app can read")):
        with pytest.raises(Exception, match=message):
            api.predict(image=handle_file(str(path)), vq_model="amused/amused-256", max_side=256,
                        api_name="/image_tokens")
    # The server is still up.
    assert api.predict(text="ok", api_name="/tokenize")["counts"]["characters"] == 2
