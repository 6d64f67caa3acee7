"""A user's own style files (Fooocus JSON, A1111 styles.csv) beside the studio's styles, read
from a temporary folder; Random Style and Fooocus V2 (the GPT-2 expansion), each seeded by
the image's seed. The style texts here are the tests' own."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest

from studio.errors import BadInput
from studio.image import style_files, styles
from studio.image.generate import generate_images
from studio.image.request import ImageRequest
from studio.pictures import metadata
from tests.image_helpers import image_ctx, pixels  # noqa: F401  (fixture)

SMALL = dict(width=256, height=256, steps=2)
MINE = [{"name": "Blueprint", "prompt": "technical blueprint of {prompt}, white lines", "negative_prompt": "colour"},
        {"name": "Postcard", "prompt": "vintage postcard, {prompt}", "negative_prompt": ""},
        {"name": "Plain suffix", "prompt": "soft light", "negative_prompt": "harsh"}]
CSV = 'name,prompt,negative_prompt\nChalk,"chalk drawing of {prompt}, on a blackboard",photo\n"Cinematic",stolen,\n'


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "mine.json").write_text(json.dumps(MINE), encoding="utf-8")
    (tmp_path / "styles.csv").write_text(CSV, encoding="utf-8")
    return tmp_path


@pytest.fixture
def styled_ctx(image_ctx, folder, monkeypatch):
    from studio.settings import with_overrides

    monkeypatch.setattr(image_ctx, "settings", with_overrides(image_ctx.settings, styles_dir=folder))
    return image_ctx


def run(ctx, **fields):
    return generate_images(ctx, ImageRequest(**{**SMALL, **fields}), None)


def test_fooocus_json_and_a1111_csv_styles_come_after_the_studios(folder):
    found = styles.available(folder)
    names = list(found)
    assert names[:2] == ["Fooocus V2", "Random Style"] and "Cinematic" in names
    assert names.index("Blueprint") > names.index("Cinematic")
    assert found["Chalk"].source.endswith("styles.csv") and found["Blueprint"].source.endswith("mine.json")
    assert found["Cinematic"].source == "studio"  # a user's file cannot replace the studio's own
    _, problems = styles.user_styles(folder)
    assert any("Cinematic" in p and "studio's own" in p for p in problems)
    prompt, negative = styles.apply("a fox", "blurry", ("Blueprint", "Plain suffix"), folder)
    assert prompt == "technical blueprint of a fox, white lines, soft light"  # no {prompt}: the text follows
    assert negative == "blurry, colour, harsh"
    listed = {s["name"]: s for s in styles.listing(folder, special=True)}
    assert listed["Chalk"]["prompt"] == "chalk drawing of {prompt}, on a blackboard"


def test_a_user_style_reaches_the_model(styled_ctx):
    styled = run(styled_ctx, prompt="a fox", styles=("Chalk",), seed=3)[0]
    assert styled.prompt == "chalk drawing of a fox, on a blackboard" and styled.negative_prompt == "photo"
    by_hand = run(styled_ctx, prompt="chalk drawing of a fox, on a blackboard", negative_prompt="photo", seed=3)[0]
    assert np.array_equal(pixels(styled), pixels(by_hand))


def test_files_are_picked_up_and_reread_without_a_restart(folder):
    assert "Late" not in styles.available(folder)
    (folder / "late.json").write_text(json.dumps([{"name": "Late", "prompt": "{prompt}, at night"}]), encoding="utf-8")
    assert styles.available(folder)["Late"].wrap("a fox") == "a fox, at night"
    path = folder / "late.json"
    path.write_text(json.dumps([{"name": "Late", "prompt": "{prompt}, at dawn"}]), encoding="utf-8")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))  # a new time, even on a coarse clock
    assert styles.available(folder)["Late"].wrap("a fox") == "a fox, at dawn"


@pytest.mark.parametrize("name,content,reason", [
    ("broken.json", "[{'name': 'x'", "not valid JSON"),
    ("object.json", '{"name": "x", "prompt": "{prompt}"}', "JSON list"),
    ("noheader.csv", "Chalk2,chalk,photo\n", "header row name,prompt,negative_prompt"),
    ("latin1.csv", "name,prompt\nCaf\xe9,x\n".encode("latin-1"), "UTF-8"),
])
def test_a_bad_file_is_skipped_with_a_sentence_and_the_rest_still_load(folder, name, content, reason):
    path = folder / name
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content, encoding="utf-8")
    found, problems = styles.user_styles(folder)
    assert "Blueprint" in found and "Chalk" in found
    assert any(name in p and "skipped" in p and reason in p for p in problems)


def test_bad_entries_are_counted_and_an_unknown_style_names_the_skipped_files(folder):
    (folder / "partly.json").write_text(json.dumps([{"name": "Good one", "prompt": "{prompt}"}, {"prompt": "no name"},
                                                    "text", {"name": "x", "prompt": 3}]), encoding="utf-8")
    (folder / "broken.json").write_text("nope", encoding="utf-8")
    found, problems = styles.user_styles(folder)
    assert "Good one" in found
    assert any("partly.json: 3 entries" in p for p in problems)
    with pytest.raises(BadInput, match="Unknown style 'Nowhere'.*broken.json was skipped"):
        styles.check_names(["Nowhere"], folder)
    assert style_files.read_folder(folder / "absent").entries == ()  # no folder: no styles, no error


def test_random_style_is_picked_with_each_images_seed(styled_ctx, folder):
    picks = [styles.for_image(("Random Style",), seed, folder).names for seed in range(40)]
    assert all(len(p) == 1 and p[0] in styles.available(folder) for p in picks)
    assert len(set(picks)) > 5 and picks[7] == styles.for_image(("Random Style",), 7, folder).names
    assert {p[0] for p in picks} & {"Blueprint", "Postcard", "Chalk", "Plain suffix"}  # the user's are in the draw
    results = run(styled_ctx, prompt="a fox", styles=("Random Style",), seed=7, image_number=2)
    for result in results:
        applied = result.parameters["resolved"]["styles_applied"]
        assert applied == list(styles.for_image(("Random Style",), result.seed, folder).names)
        assert result.prompt == styles.apply("a fox", "", tuple(applied), folder)[0]


def test_fooocus_v2_expands_each_image_with_its_own_seed(image_ctx, tmp_path):
    request = ImageRequest(prompt="a lighthouse on a cliff", styles=("Fooocus V2", "Cinematic"), seed=41,
                           image_number=2, **SMALL)
    first, second = generate_images(image_ctx, request, tmp_path)
    words = [r.parameters["resolved"]["fooocus_v2"] for r in (first, second)]
    assert all(words) and words[0] != words[1]  # each image its own expansion
    styled = styles.all_styles()["Cinematic"].wrap("a lighthouse on a cliff")
    assert first.prompt == f"{styled}, {', '.join(words[0])}"  # the expansion follows the styled prompt
    saved = metadata.read_parameters(second.path)
    assert metadata.parse_a1111(saved["parameters"])["prompt"] == second.prompt
    again = generate_images(image_ctx, ImageRequest(**{**request.__dict__, "seed": 42, "image_number": 1}), None)[0]
    assert again.parameters["resolved"]["fooocus_v2"] == words[1] and again.prompt == second.prompt
    assert np.array_equal(pixels(again), pixels(second))


def test_fooocus_v2_with_no_prompt_is_said(image_ctx):
    result = run(image_ctx, prompt="", styles=("Fooocus V2",), seed=1)[0]
    assert result.prompt == "" and any("nothing to expand" in n for n in result.notes)


def test_a_styles_negative_never_works_against_another_chosen_styles_look():
    """Cinematic's negative says "painting"; beside Watercolor ("watercolor painting of ...") it
    is left out, while the rest of both negatives, and the user's own, stay."""
    from studio.image import styles

    _, negative = styles.apply("a fox", "blurry, painting", ("Cinematic", "Watercolor"))
    phrases = negative.split(", ")
    assert phrases[:2] == ["blurry", "painting"]  # the user's own negative is theirs
    assert phrases.count("painting") == 1 and "illustration" in phrases and "photograph" in phrases
    _, cinematic_alone = styles.apply("a fox", "", ("Cinematic",))
    assert "painting" in cinematic_alone.split(", ")
    _, together = styles.apply("a fox", "", ("Cinematic", "Watercolor"))
    assert "painting" not in together.split(", ")
