"""One way to read a user's picture, for every tool: Edit, Describe, the tokenizer's image view
and the face tools read a phone photo upright, put transparency on white (faces keep it aside)
and refuse a non-picture with the same sentence. They used to disagree: Describe and the
tokenizer view ignored the EXIF rotation or drew transparency on black."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from studio.errors import BadInput
from studio.faces.images import open_picture
from studio.image.edit.images import open_image as edit_open
from studio.pictures import reading
from studio.prompts.describe import open_image as describe_open
from studio.tokens.image_tokens import open_image as tokens_open

RGB_READERS = {"edit": edit_open, "describe": describe_open, "tokens": tokens_open,
               "faces": lambda source: open_picture(source).to_pil().convert("RGB")}


@pytest.fixture()
def phone_photo(tmp_path):
    """A 60×30 JPEG whose camera says "rotate 90° clockwise to view" (EXIF orientation 6)."""
    path = tmp_path / "phone.jpg"
    picture = Image.new("RGB", (60, 30), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6
    picture.save(path, exif=exif)
    return path


@pytest.mark.parametrize("tool", sorted(RGB_READERS))
def test_every_tool_reads_a_phone_photo_upright(tool, phone_photo):
    assert RGB_READERS[tool](str(phone_photo)).size == (30, 60)


@pytest.mark.parametrize("tool", ["edit", "describe", "tokens"])
def test_transparency_is_put_on_white(tool, tmp_path):
    path = tmp_path / "cut-out.png"
    picture = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    picture.paste((10, 120, 10, 255), (10, 10, 30, 30))
    picture.save(path)
    pixels = np.asarray(RGB_READERS[tool]({"path": str(path)}))
    assert tuple(pixels[0, 0]) == (255, 255, 255) and tuple(pixels[20, 20]) == (10, 120, 10)


def test_the_face_tools_keep_the_transparency_aside(tmp_path):
    path = tmp_path / "cut-out.png"
    Image.new("RGBA", (40, 40), (50, 60, 70, 0)).save(path)
    picture = open_picture(str(path))
    assert picture.alpha is not None and picture.alpha.max() == 0


@pytest.mark.parametrize("tool", sorted(RGB_READERS))
def test_a_file_that_is_not_a_picture_gets_one_sentence(tool, tmp_path):
    fake = tmp_path / "notes.png"
    fake.write_text("not a picture")
    with pytest.raises(BadInput, match=r"\(notes.png\) is not a picture this app can read: use PNG, JPEG or WebP"):
        RGB_READERS[tool](str(fake))


def test_a_giant_picture_is_refused_from_its_header(tmp_path):
    path = tmp_path / "giant.png"
    Image.new("L", (9000, 5000)).save(path)
    with pytest.raises(BadInput, match=r"9000×5000 pixels \(45.0 megapixels\); the limit here is 40.0 megapixels"):
        reading.read_picture(str(path))


def test_sixteen_bit_pictures_are_scaled_not_clipped():
    deep = Image.fromarray(np.full((8, 8), 32768, dtype=np.uint16))
    assert np.asarray(reading.read_rgb(deep))[0, 0, 0] == 128
