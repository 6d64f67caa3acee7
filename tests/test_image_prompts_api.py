"""/image_prompt_preview and /generate_image's image prompts through gradio_client, against
the app started in the tiny profile."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.faces.samples import draw_faces


@pytest.fixture()
def face_png(tmp_path) -> str:
    path = tmp_path / "face.png"
    draw_faces((256, 256), ((128, 128),), radius=55, seed=3).save(path)
    return str(path)


def test_preview_gives_the_map_the_model_will_be_given(api, face_png):
    from gradio_client import handle_file

    edges = api.predict(image=handle_file(face_png), type="PyraCanny", api_name="/image_prompt_preview")
    assert (edges["width"], edges["height"], edges["type"]) == (256, 256, "PyraCanny")
    shown = np.asarray(Image.open(edges["image"]).convert("L"))
    assert shown.shape == (256, 256) and shown.max() == 255 and shown[0:20, 0:20].max() == 0  # the face's outline only
    face = api.predict(image=handle_file(face_png), type="faceswap", api_name="/image_prompt_preview")
    assert (face["width"], face["height"], face["type"]) == (224, 224, "FaceSwap")


def test_generate_with_two_image_prompts_records_them(api, face_png):
    from gradio_client import handle_file

    common = dict(prompt="a portrait", seed=9, width=256, height=256, steps=2, api_name="/generate_image")
    plain = api.predict(**common)["images"][0]
    steered = api.predict(**common, image_prompts=[
        {"image": handle_file(face_png), "type": "FaceSwap"},
        {"image": handle_file(face_png), "type": "PyraCanny", "weight": 0.8, "stop_at": 0.4},
    ])["images"][0]
    slots = steered["parameters"]["request"]["image_prompts"]
    assert [(s["type"], s["weight"], s["stop_at"]) for s in slots] == [("FaceSwap", 0.75, 0.9), ("PyraCanny", 0.8, 0.4)]
    assert "Image prompts:" in Image.open(steered["image"]).info["parameters"]
    assert not np.array_equal(np.asarray(Image.open(plain["image"])), np.asarray(Image.open(steered["image"])))


@pytest.mark.parametrize(
    "slot,message",
    [({"type": "Sketch"}, "Unknown image prompt type"), ({"type": "CPDS", "stop_at": 2}, "between 0 and 1"),
     ({"type": "PyraCanny", "image": {"path": "/etc/hostname"}}, "must be uploaded")],
)
def test_bad_image_prompts_come_back_as_sentences(api, face_png, slot, message):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=message):
        api.predict(prompt="x", steps=1, width=256, height=256, api_name="/generate_image",
                    image_prompts=[{"image": handle_file(face_png), **slot}])


def test_a_server_path_is_refused_in_the_list_form_too(api, face_png):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="must be uploaded"):
        api.predict(prompt="x", steps=1, width=256, height=256, api_name="/generate_image",
                    image_prompts=[[face_png, "PyraCanny", 1.0, 0.5]])


def test_a_picture_without_a_face_is_refused_for_faceswap(api, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    path = tmp_path / "grey.png"
    Image.new("RGB", (128, 128), (90, 90, 90)).save(path)
    with pytest.raises(AppError, match="No face was found"):
        api.predict(image=handle_file(str(path)), type="FaceSwap", api_name="/image_prompt_preview")


def test_previews_of_the_same_picture_add_no_files_to_the_upload_folder(api, face_png):
    """The preview is saved under its content's hash in Gradio's cache (and cleaned with it): asking
    again for the same preview writes nothing new, where one file per call used to pile up."""
    from gradio.utils import get_upload_folder
    from gradio_client import handle_file

    folder = Path(get_upload_folder())  # the app runs on this machine, with the same temp folder
    api.predict(image=handle_file(face_png), type="PyraCanny", api_name="/image_prompt_preview")
    before = {p for p in folder.rglob("*") if p.is_file()}
    for _ in range(2):
        api.predict(image=handle_file(face_png), type="PyraCanny", api_name="/image_prompt_preview")
    assert {p for p in folder.rglob("*") if p.is_file()} - before == set()
