"""Image parameters inside the PNG: the widely used A1111 "parameters" text chunk (other SD
tools read it) and a "studio" JSON chunk with the exact request (styles, LoRAs, preset).

Reading takes the text chunks straight from the file, without decoding any pixels, so a
20000x20000 PNG is read as fast as a small one, and never trips the decompression-bomb guard.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from pathlib import Path
from typing import Any

from studio.errors import BadInput

PARAMETERS_KEY = "parameters"
STUDIO_KEY = "studio"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_TEXT_BYTES = 1_000_000  # a parameters chunk is a few kB; more is not metadata
MAX_CHUNKS_SCANNED = 10_000

# A1111 sampler names <-> the studio's; newer A1111 writes "Schedule type: Karras" apart.
A1111_SAMPLERS = {
    "Euler": "Euler", "Euler a": "Euler a", "DPM++ 2M": "DPM++ 2M", "DPM++ 2M Karras": "DPM++ 2M Karras",
    "DPM++ 2M SDE Karras": "DPM++ 2M SDE Karras", "UniPC": "UniPC", "DDIM": "DDIM", "LCM": "LCM",
}


# --- writing ------------------------------------------------------------------------------


def _quote(value: str) -> str:
    """A1111 quotes a value that holds its separators."""
    text = str(value)
    if any(ch in text for ch in ',:"\n'):
        return json.dumps(text, ensure_ascii=False)
    return text


def a1111_text(prompt: str, negative: str, fields: dict[str, Any]) -> str:
    lines = [prompt]
    if negative:
        lines.append(f"Negative prompt: {negative}")
    lines.append(", ".join(f"{key}: {_quote(value)}" for key, value in fields.items() if value not in (None, "")))
    return "\n".join(lines)


def png_info(a1111: str, studio: dict[str, Any]):
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_itxt(PARAMETERS_KEY, a1111)
    info.add_itxt(STUDIO_KEY, json.dumps(studio, ensure_ascii=False))
    return info


# --- reading ------------------------------------------------------------------------------


def read_text_chunks(path: str | Path) -> dict[str, str]:
    """tEXt / iTXt / zTXt chunks of a PNG, read without decoding the image."""
    chunks: dict[str, str] = {}
    with open(path, "rb") as handle:
        if handle.read(8) != PNG_SIGNATURE:
            raise BadInput("That file is not a PNG: parameters are read from PNG files only.")
        for _ in range(MAX_CHUNKS_SCANNED):
            header = handle.read(8)
            if len(header) < 8:
                break
            length, kind = struct.unpack(">I4s", header)
            if kind in (b"tEXt", b"iTXt", b"zTXt") and length <= MAX_TEXT_BYTES:
                data = handle.read(length)
                handle.seek(4, 1)  # CRC
                key, text = _decode_chunk(kind, data)
                if key:
                    chunks[key] = text
            elif kind == b"IEND":
                break
            else:
                handle.seek(length + 4, 1)  # skip pixels and everything else unread
    return chunks


def _decode_chunk(kind: bytes, data: bytes) -> tuple[str, str]:
    key, _, rest = data.partition(b"\0")
    try:
        if kind == b"tEXt":
            return key.decode("latin-1"), rest.decode("latin-1")
        if kind == b"zTXt":
            return key.decode("latin-1"), zlib.decompress(rest[1:], bufsize=MAX_TEXT_BYTES).decode("latin-1")
        compressed = rest[0]  # rest[1] is the compression method: zlib is the only one defined
        _language, _, rest = rest[2:].partition(b"\0")
        _translated, _, text = rest.partition(b"\0")
        if compressed:
            text = zlib.decompress(text, bufsize=MAX_TEXT_BYTES)
        return key.decode("latin-1"), text.decode("utf-8")
    except (zlib.error, UnicodeDecodeError, IndexError):
        return "", ""


_FIELD = re.compile(r'\s*([\w .\-/()]+?):\s*("(?:\\.|[^"\\])*"|[^,]*)(?:,|$)')


def parse_a1111(text: str) -> dict[str, Any]:
    """An A1111 "parameters" string -> prompt, negative prompt and the settings line's fields."""
    text = str(text or "").strip()
    lines = text.split("\n")
    settings_line = ""
    if lines and re.match(r"^\s*Steps:\s*\d+", lines[-1]):
        settings_line = lines.pop()
    prompt_lines, negative_lines, in_negative = [], [], False
    for line in lines:
        if line.startswith("Negative prompt:"):
            in_negative = True
            line = line[len("Negative prompt:"):].strip()
        (negative_lines if in_negative else prompt_lines).append(line)
    fields: dict[str, str] = {}
    for match in _FIELD.finditer(settings_line):
        key, value = match.group(1).strip(), match.group(2).strip()
        if value.startswith('"'):
            try:
                value = json.loads(value)
            except ValueError:
                value = value.strip('"')
        if key:
            fields[key] = value
    return {"prompt": "\n".join(prompt_lines).strip(), "negative_prompt": "\n".join(negative_lines).strip(), "fields": fields}


def request_fields_from_a1111(parsed: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """ImageRequest fields an A1111 string gives (and notes on what could not be used)."""
    fields = parsed["fields"]
    out: dict[str, Any] = {"prompt": parsed["prompt"], "negative_prompt": parsed["negative_prompt"]}
    notes: list[str] = []

    def number(key: str, kind: type):
        try:
            return kind(float(fields[key]))
        except (KeyError, ValueError):
            return None

    for key, name, kind in (("Steps", "steps", int), ("CFG scale", "cfg", float), ("Seed", "seed", int)):
        value = number(key, kind)
        if value is not None:
            out[name] = value
    size = re.match(r"^(\d+)x(\d+)$", str(fields.get("Size", "")).strip())
    if size:
        out["width"], out["height"] = int(size.group(1)), int(size.group(2))
    sampler = str(fields.get("Sampler", "")).strip()
    if fields.get("Schedule type", "").strip().lower() == "karras" and not sampler.endswith("Karras"):
        sampler = f"{sampler} Karras"
    if sampler in A1111_SAMPLERS:
        out["scheduler"] = A1111_SAMPLERS[sampler]
    elif sampler:
        notes.append(f"Sampler {sampler!r} has no equivalent here; the preset's sampler is used.")
    if fields.get("Model"):
        notes.append(f"Made with the model {fields['Model']!r}: pick it in the checkpoint list if you have it.")
    return out, notes


def read_parameters(path: str | Path) -> dict[str, Any]:
    """What a dropped PNG carries: {"studio": {...}} for the studio's own, or
    {"a1111": {...}} for any A1111-style PNG. A clear message when there is none."""
    chunks = read_text_chunks(path)
    if STUDIO_KEY in chunks:
        try:
            data = json.loads(chunks[STUDIO_KEY])
            if isinstance(data, dict) and isinstance(data.get("request"), dict):
                return {"studio": data, "parameters": chunks.get(PARAMETERS_KEY, "")}
        except ValueError:
            pass
    if PARAMETERS_KEY in chunks:
        return {"a1111": parse_a1111(chunks[PARAMETERS_KEY]), "parameters": chunks[PARAMETERS_KEY]}
    raise BadInput("This PNG holds no generation parameters (no A1111 'parameters' text).")
