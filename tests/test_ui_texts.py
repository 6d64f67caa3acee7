"""The words the UI shows for states that used to mislead (the UI walkthrough's findings)."""

from __future__ import annotations

import re

from pathlib import Path

from PIL import Image

from studio.pictures import outputs
from tabs.faceswap import details_markdown
from tabs.train import _shown_answer, progress_html, status_markdown


def test_a_queued_job_never_says_running_now_and_a_running_one_says_no_queue():
    queued = status_markdown({"name": "coach", "task": "causal_lm", "base_model": "m", "state": "queued",
                              "queue_position": 0, "message": "Waiting for the training slot."})
    running = status_markdown({"name": "coach", "task": "causal_lm", "base_model": "m", "state": "running",
                               "queue_position": 0, "job_id": "20261206-a1b2",
                               "adapter_path": "/srv/outputs/train/user-x/20261206-a1b2/adapter"})
    assert "running now" not in queued and "next for the training slot" in queued
    # The adapter by its own name and job (its folder is always "adapter"), and where to use it.
    assert "queue" not in running and "Adapter saved: **coach** · 20261206-a1b2" in running
    assert "Text tab" in running and "/srv" not in running


def test_no_progress_bar_before_a_job_exists():
    assert progress_html({}) == ""
    assert "step 3 / 10" in progress_html({"step": 3, "total_steps": 10, "state": "running"})


def test_a_blank_answer_is_said_to_be_blank():
    say = {"train.blank_answer": "(only spaces and line breaks: {characters} characters.)"}.get
    assert _shown_answer("\n" * 64, say) == "(only spaces and line breaks: 64 characters.)"
    assert _shown_answer("Keep going!", say) == "Keep going!"


def test_a_seedless_result_is_named_and_captioned_for_what_it_is(tmp_path: Path):
    picture = Image.new("RGB", (8, 8))
    swapped = outputs.save_png(tmp_path, picture, "face swap", {}, seed=None, kind="face swap")
    drawn = outputs.save_png(tmp_path, picture, "a fox", {}, seed=42)
    # <n>-<time>-<what>-<random part>.png: the random part keeps it from being guessed (studio.pictures.outputs)
    assert re.search(r"-face-swap-[0-9a-f]{16}\.png$", swapped.name) and re.search(r"-42-[0-9a-f]{16}\.png$", drawn.name)
    captions = dict(outputs.history(tmp_path))
    assert captions[str(swapped)].startswith("face swap · ") and captions[str(drawn)].startswith("seed 42 · ")


def test_face_swap_details_are_words_not_raw_json():
    face = {"number": 1, "box": [10.0, 12.5, 80.0, 90.0], "landmarks": [[1, 2]] * 5, "score": 0.91}
    text = details_markdown({"replaced": [1], "source_faces": [face], "target_faces": [face, {**face, "number": 2}],
                             "models": {"face_detector": "scrfd", "face_swapper": "inswapper"},
                             "seconds": {"detect": 0.01, "swap": 0.2}, "notes": [], "file_name": "x.png"})
    assert "**Replaced:** face 1" in text and "2: box 10, 12.5, 80, 90, score 0.91" in text
    assert "detector: scrfd" in text and "Array" not in text and "{" not in text


def test_a_reply_with_nothing_printable_is_not_an_empty_bubble():
    """A random-weight twin's greedy reply can be spaces, new lines and control characters: the
    chat bubble shows them made visible instead of looking empty."""
    from tabs.text.chat import bubble_text

    assert bubble_text(" \n\x0e\t") == "␣↵\ufffd⇥"
    assert bubble_text("a reply") == "a reply" and bubble_text("") == ""
