"""Forgetting uploaded face photos (studio.faces.uploads): source photos leave the upload folder
once read, but a photo that is also the request's target stays, or the target would be gone
before the swap reads it (issue 30: one photo as both faces)."""

from __future__ import annotations

from pathlib import Path

from studio.faces import pipeline, uploads
from studio.faces.pipeline import SwapRequest
from studio.faces.samples import draw_faces


def _upload(root: Path, folder: str, name: str, data: bytes) -> Path:
    """A file as the web server keeps an upload: ``<root>/<hash>/<name>``."""
    path = root / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_a_source_photo_and_its_copies_are_forgotten(tmp_path):
    root = tmp_path / "uploads"
    source = _upload(root, "a1", "face.png", b"source")
    copy = _upload(root, "b2", "face.png", b"source")
    other = _upload(root, "c3", "face.png", b"another photo of the same name")
    uploads.forget([str(source)], root)
    assert not source.exists() and not copy.exists()
    assert other.is_file()


def test_the_same_photo_given_as_the_target_is_kept(tmp_path):
    root = tmp_path / "uploads"
    photo = _upload(root, "a1", "x.png", b"one photo")
    uploads.forget([str(photo)], root, keep=[str(photo)])
    assert photo.is_file()


def test_a_copy_of_the_target_is_kept_with_it_and_other_sources_still_go(tmp_path):
    root = tmp_path / "uploads"
    source_copy = _upload(root, "a1", "x.png", b"one photo")
    target = _upload(root, "b2", "x.png", b"one photo")
    second_source = _upload(root, "c3", "y.png", b"another face")
    uploads.forget([str(source_copy), {"path": str(second_source)}], root, keep=[{"path": str(target)}])
    assert source_copy.is_file() and target.is_file()
    assert not second_source.exists()


def test_the_same_name_with_other_bytes_is_not_the_target(tmp_path):
    root = tmp_path / "uploads"
    source = _upload(root, "a1", "x.png", b"the source")
    target = _upload(root, "b2", "x.png", b"the target")
    uploads.forget([str(source)], root, keep=[str(target)])
    assert not source.exists() and target.is_file()


def test_files_outside_the_upload_folder_and_missing_ones_are_left_alone(tmp_path):
    root = tmp_path / "uploads"
    root.mkdir()
    mine = tmp_path / "mine.png"
    mine.write_bytes(b"x")
    uploads.forget([str(mine), str(root / "gone" / "x.png"), None, ""], root, keep=[None, str(root / "nope.png")])
    assert mine.is_file()


def test_one_file_as_both_source_and_target_swaps(studio_ctx, tmp_path):
    photo = tmp_path / "x.png"
    draw_faces(seed=2).save(photo)
    result = pipeline.swap_faces(studio_ctx, SwapRequest([str(photo)], str(photo), target_faces="2"))
    assert result.replaced == [2] and len(result.source_faces) == 3
