"""/detect_faces and /swap_faces through gradio_client against the app in the tiny profile."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from studio.faces.samples import draw_faces


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faces")
    source = folder / "source.png"
    target = folder / "target.png"
    draw_faces((640, 640), ((320, 320),), seed=1).save(source)
    draw_faces(seed=2).save(target)
    return source, target


def test_detect_faces_gives_numbered_boxes_landmarks_and_scores(api, pictures):
    from gradio_client import handle_file

    answer = api.predict(image=handle_file(str(pictures[1])), score_threshold=0.5, api_name="/detect_faces")
    assert (answer["width"], answer["height"]) == (640, 320)
    faces = answer["faces"]
    assert [f["number"] for f in faces] == [1, 2, 3]
    centres = [(f["box"][0] + f["box"][2]) / 2 for f in faces]
    assert centres == sorted(centres) and abs(centres[1] - 320) < 40
    assert all(len(f["landmarks"]) == 5 and 0.5 <= f["score"] <= 1 for f in faces)


def test_swap_faces_replaces_only_the_chosen_face_and_saves_a_png(api, pictures):
    from gradio_client import handle_file

    source, target = pictures
    answer = api.predict(source_images=[handle_file(str(source))], target_image=handle_file(str(target)),
                         target_faces="2", api_name="/swap_faces")
    assert answer["replaced"] == [2]
    result = np.asarray(Image.open(answer["image"]).convert("RGB")).astype(int)
    before = np.asarray(Image.open(target).convert("RGB")).astype(int)
    changed = (result != before).any(-1)
    assert changed[:, 240:400].any()
    assert not changed[:, :230].any() and not changed[:, 410:].any()
    assert "face swap" in Image.open(answer["image"]).info["parameters"]


def test_a_target_without_faces_comes_back_as_a_sentence(api, pictures, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    empty = tmp_path / "empty.png"
    Image.new("RGB", (200, 200), (30, 30, 90)).save(empty)
    with pytest.raises(AppError, match="No face was found in the target photo"):
        api.predict(source_images=[handle_file(str(pictures[0]))], target_image=handle_file(str(empty)),
                    api_name="/swap_faces")


def test_uploaded_source_photos_are_not_kept_on_disk(api, pictures, tmp_path):
    import uuid

    from gradio.utils import get_upload_folder
    from gradio_client import handle_file

    unique = tmp_path / f"source-{uuid.uuid4().hex}.png"
    unique.write_bytes(pictures[0].read_bytes())
    answer = api.predict(source_images=[handle_file(str(unique))], target_image=handle_file(str(pictures[1])),
                         target_faces="1", api_name="/swap_faces")
    assert answer["replaced"] == [1]
    from pathlib import Path

    assert not list(Path(get_upload_folder()).rglob(unique.name))
    assert unique.is_file()  # the client's own file is untouched


def test_forget_uploads_touches_only_the_upload_folder(tmp_path):
    from gradio.utils import get_upload_folder

    from tabs.faceswap import forget_uploads

    outside = tmp_path / "mine.png"
    outside.write_bytes(b"x")
    forget_uploads([str(outside), "/etc/hostname", None])
    assert outside.is_file()
    from pathlib import Path

    inside = Path(get_upload_folder()) / "studio-test-forget" / "face.png"
    inside.parent.mkdir(parents=True, exist_ok=True)
    inside.write_bytes(b"x")
    forget_uploads([str(inside)])
    assert not inside.exists()


def test_one_photo_can_be_both_the_source_and_the_target(api, tmp_path):
    """The same upload as both faces is one file on the server: forgetting the source must not
    delete the target under it (it was refused as "The target photo (x.png) cannot be found")."""
    from gradio_client import handle_file

    photo = tmp_path / "x.png"
    draw_faces(seed=2).save(photo)
    answer = api.predict(source_images=[handle_file(str(photo))], target_image=handle_file(str(photo)),
                         source_face=1, target_faces="3", api_name="/swap_faces")
    assert answer["replaced"] == [3] and len(answer["source_faces"]) == 3
