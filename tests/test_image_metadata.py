"""PNG parameters: the A1111 'parameters' chunk and the studio's JSON, written and read back;
a studio PNG reproduces its pixels; hand-written A1111 strings parse; huge PNGs are read
without decoding."""

from __future__ import annotations

import json
import struct
import zlib

import numpy as np
import pytest

from studio.errors import BadInput
from studio.image import picture_settings
from studio.pictures import metadata
from studio.image.generate import generate_images
from studio.image.request import ImageRequest
from tests.image_helpers import image_ctx, pixels  # noqa: F401  (shared fixture)

A1111 = (
    "masterpiece, a cat wearing a hat, <lora:hat:0.7>\n"
    "a second prompt line\n"
    "Negative prompt: lowres, bad hands\n"
    'Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 1234567, Size: 832x1216, '
    'Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Lora hashes: "hat: 1a2b3c, other: 4d5e", Version: v1.10.1'
)


def test_a_hand_written_a1111_string_parses():
    parsed = metadata.parse_a1111(A1111)
    assert parsed["prompt"] == "masterpiece, a cat wearing a hat, <lora:hat:0.7>\na second prompt line"
    assert parsed["negative_prompt"] == "lowres, bad hands"
    assert parsed["fields"]["Lora hashes"] == "hat: 1a2b3c, other: 4d5e"
    fields, notes = metadata.request_fields_from_a1111(parsed)
    assert fields["steps"] == 28 and fields["cfg"] == 6.5 and fields["seed"] == 1234567
    assert (fields["width"], fields["height"]) == (832, 1216)
    assert fields["scheduler"] == "DPM++ 2M Karras"  # "Schedule type: Karras" folded in
    assert any("sd_xl_base_1.0" in n for n in notes)


def test_a1111_text_round_trips_quoted_values():
    text = metadata.a1111_text("a, b", "c", {"Steps": 3, "Styles": "Cinematic, Analog film", "Seed": 7})
    parsed = metadata.parse_a1111(text)
    assert parsed["prompt"] == "a, b" and parsed["negative_prompt"] == "c"
    assert parsed["fields"]["Styles"] == "Cinematic, Analog film" and parsed["fields"]["Seed"] == "7"


def test_generate_save_and_load_back_gives_the_same_settings_and_pixels(image_ctx, tmp_path):
    request = ImageRequest(prompt="一座山, misty", styles=("Ink wash (水墨)",), width=256, height=256, steps=2,
                           seed=77, image_number=2, loras=(("people/style.safetensors", 0.6),))
    second = generate_images(image_ctx, request, tmp_path)[1]
    found = metadata.read_parameters(second.path)
    restored = ImageRequest.from_parameters(found["studio"]["request"])
    assert restored.seed == 78 and restored.image_number == 1
    assert restored.styles == request.styles and restored.loras == request.loras
    again = generate_images(image_ctx, restored, None)[0]
    assert np.array_equal(pixels(again), pixels(second))
    # Other tools read the same PNG through the A1111 chunk.
    parsed = metadata.parse_a1111(found["parameters"])
    assert parsed["fields"]["Seed"] == "78" and parsed["fields"]["Size"] == "256x256"
    assert parsed["prompt"] == second.prompt


def _png(width: int, height: int, chunks: list[tuple[bytes, bytes]]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = b"".join(chunk(k, d) for k, d in chunks)
    return metadata.PNG_SIGNATURE + chunk(b"IHDR", ihdr) + body + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")


def test_a_20000_pixel_png_is_read_for_metadata_without_decoding(tmp_path):
    path = tmp_path / "huge.png"
    path.write_bytes(_png(20000, 20000, [(b"tEXt", b"parameters\0" + A1111.encode("latin-1"))]))
    found = metadata.read_parameters(path)
    assert found["a1111"]["fields"]["Seed"] == "1234567"


def test_compressed_international_text_is_read(tmp_path):
    text = "紅狐狸\nSteps: 4, Seed: 5, Size: 256x256".encode()
    itxt = b"parameters\0" + b"\x01\x00" + b"\0" + b"\0" + zlib.compress(text)
    path = tmp_path / "itxt.png"
    path.write_bytes(_png(8, 8, [(b"iTXt", itxt)]))
    assert metadata.read_parameters(path)["a1111"]["prompt"] == "紅狐狸"


@pytest.mark.parametrize("content", [b"GIF89a not a png", b""])
def test_not_a_png_or_no_parameters_is_a_sentence(tmp_path, content):
    path = tmp_path / "x.png"
    path.write_bytes(content)
    with pytest.raises(BadInput, match="not a PNG"):
        metadata.read_parameters(path)
    path.write_bytes(_png(8, 8, []))
    with pytest.raises(BadInput, match="no generation parameters"):
        metadata.read_parameters(path)


# --- Fooocus's schemes ---------------------------------------------------------------------------

# Written as Fooocus 2.5 writes its own scheme: snake_case keys, lists and tuples as Python's str().
FOOOCUS_JSON = {
    "adm_guidance": "(1.5, 0.8, 0.3)", "base_model": "juggernautXL_v8Rundiffusion", "base_model_hash": "aeb7e9e689",
    "clip_skip": 2, "full_negative_prompt": ["lowres"], "full_prompt": ["a fox in the snow, detailed"],
    "guidance_scale": 4.0, "lora_combined_1": "sd_xl_offset_example-lora_1.0 : 0.1", "loras": [],
    "metadata_scheme": "fooocus", "negative_prompt": "lowres", "performance": "Speed",
    "prompt": "a fox in the snow", "prompt_expansion": "a fox in the snow, detailed", "refiner_model": "None",
    "refiner_switch": 0.5, "resolution": "(1152, 896)", "sampler": "dpmpp_2m_sde_gpu", "scheduler": "karras",
    "seed": "1234567", "sharpness": 2.0, "steps": 30,
    "styles": "['Fooocus V2', 'Fooocus Enhance', 'Cinematic']", "vae": "Default (model)", "version": "Fooocus v2.5.5",
}


def _png_with(path, chunks: dict[str, str]) -> None:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, value in chunks.items():
        info.add_text(key, value)
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)


def test_a_fooocus_scheme_png_is_read_into_request_fields(tmp_path):
    path = tmp_path / "fooocus.png"
    _png_with(path, {"parameters": json.dumps(FOOOCUS_JSON), "fooocus_scheme": "fooocus"})
    found = metadata.read_parameters(path)
    assert found["fooocus"]["version"] == "Fooocus v2.5.5"
    fields, notes = picture_settings.request_fields(found)
    assert fields["prompt"] == "a fox in the snow" and fields["negative_prompt"] == "lowres"
    assert (fields["steps"], fields["cfg"], fields["seed"]) == (30, 4.0, 1234567)
    assert (fields["width"], fields["height"]) == (1152, 896)
    assert fields["scheduler"] == "DPM++ 2M SDE Karras" and fields["performance"] == "Speed"
    assert (fields["sharpness"], fields["adaptive_cfg"]) == (2.0, 7.0)  # Fooocus leaves its default 7 unwritten
    assert (fields["adm_scaler_positive"], fields["adm_scaler_negative"], fields["adm_scaler_end"]) == (1.5, 0.8, 0.3)
    assert fields["clip_skip"] == 2 and fields["styles"] == ["Fooocus V2", "Cinematic"]
    assert any("Fooocus Enhance" in n for n in notes) and any("juggernautXL_v8Rundiffusion" in n for n in notes)
    assert any("sd_xl_offset_example-lora_1.0" in n and "0.1" in n for n in notes)
    ImageRequest(**{k: v for k, v in fields.items() if k != "styles"}, styles=tuple(fields["styles"]))


def test_fooocus_labels_and_its_a1111_scheme_are_read_too(tmp_path):
    labelled = {"Prompt": "a red fox", "Negative Prompt": "", "Guidance Scale": 6, "Sharpness": 4, "Seed": 9,
                "Resolution": "(1024, 1024)", "CFG Mimicking from TSNR": 5.0, "Sampler": "euler_ancestral",
                "Scheduler": "normal"}
    path = tmp_path / "labels.png"
    _png_with(path, {"parameters": json.dumps(labelled), "fooocus_scheme": "fooocus"})
    fields, _ = picture_settings.request_fields(metadata.read_parameters(path))
    assert (fields["prompt"], fields["cfg"], fields["sharpness"], fields["adaptive_cfg"]) == ("a red fox", 6.0, 4.0, 5.0)
    assert fields["scheduler"] == "Euler a" and fields["seed"] == 9
    a1111 = ('a red fox\nNegative prompt: blurry\nSteps: 30, Sampler: DPM++ 2M SDE, Seed: 5, Size: 896x1152, '
             'CFG scale: 7, Sharpness: 3, ADM Guidance: "(1.2, 0.9, 0.4)", Adaptive CFG: 6, Clip skip: 3, '
             'Performance: Quality, Version: Fooocus v2.5.5')
    path = tmp_path / "a1111.png"
    _png_with(path, {"parameters": a1111, "fooocus_scheme": "a1111"})
    fields, _ = picture_settings.request_fields(metadata.read_parameters(path))
    assert (fields["sharpness"], fields["adaptive_cfg"], fields["clip_skip"], fields["performance"]) == (3.0, 6.0, 3, "Quality")
    assert (fields["adm_scaler_positive"], fields["adm_scaler_negative"], fields["adm_scaler_end"]) == (1.2, 0.9, 0.4)


def test_an_a1111_png_without_the_hooks_comes_back_with_them_off():
    fields, _ = metadata.request_fields_from_a1111(metadata.parse_a1111(A1111))
    assert fields["sharpness"] == 0.0 and fields["adaptive_cfg"] == 30.0
    assert (fields["adm_scaler_positive"], fields["adm_scaler_negative"], fields["adm_scaler_end"]) == (1.0, 1.0, 0.0)
