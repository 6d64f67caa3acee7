"""Image parameters inside the PNG: the widely used A1111 "parameters" text chunk (other SD
tools read it) and a "studio" JSON chunk with the exact request (styles, LoRAs, preset).

Read back from three schemes: the studio's own, A1111's (and Fooocus's A1111 scheme, which adds
Sharpness, ADM Guidance and Adaptive CFG to it), and Fooocus's own (its "parameters" chunk
holds JSON, with a "fooocus_scheme" chunk saying "fooocus"), which is read by putting its
keys under A1111's names, so one function turns all of them into ImageRequest fields
(studio.image.picture_settings adds the studio's own scheme and the styles there are).

Reading takes the text chunks straight from the file, without decoding any pixels, so a
20000x20000 PNG is read as fast as a small one, and never trips the decompression-bomb guard.
"""

from __future__ import annotations

import ast
import json
import re
import struct
import zlib
from pathlib import Path
from typing import Any, Iterable

from studio.errors import BadInput

PARAMETERS_KEY = "parameters"
STUDIO_KEY = "studio"
FOOOCUS_SCHEME_KEY = "fooocus_scheme"  # "fooocus" (JSON parameters) or "a1111"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_TEXT_BYTES = 1_000_000  # a parameters chunk is a few kB; more is not metadata
MAX_CHUNKS_SCANNED = 10_000

# A1111 sampler names <-> the studio's; newer A1111 writes "Schedule type: Karras" apart.
A1111_SAMPLERS = {
    "Euler": "Euler", "Euler a": "Euler a", "DPM++ 2M": "DPM++ 2M", "DPM++ 2M Karras": "DPM++ 2M Karras",
    "DPM++ 2M SDE Karras": "DPM++ 2M SDE Karras", "UniPC": "UniPC", "DDIM": "DDIM", "LCM": "LCM",
}


# Fooocus's samplers (ComfyUI's k-sampler names) with its scheduler -> the studio's; a sampler
# Fooocus names that has no equivalent here is said in a note.
FOOOCUS_SAMPLERS = {
    ("dpmpp_2m_sde_gpu", "karras"): "DPM++ 2M SDE Karras", ("dpmpp_2m_sde", "karras"): "DPM++ 2M SDE Karras",
    ("dpmpp_2m", "karras"): "DPM++ 2M Karras", ("dpmpp_2m", "normal"): "DPM++ 2M", ("euler", "normal"): "Euler",
    ("euler", "sgm_uniform"): "Euler (trailing)", ("euler_ancestral", "normal"): "Euler a",
    ("euler_ancestral", "karras"): "Euler a", ("ddim", "ddim_uniform"): "DDIM", ("ddim", "normal"): "DDIM",
    ("uni_pc", "normal"): "UniPC", ("uni_pc_bh2", "normal"): "UniPC", ("lcm", "lcm"): "LCM",
}
PERFORMANCES = ("Quality", "Speed", "Extreme Speed", "Lightning")  # Fooocus's names, the studio's too
# The guidance hooks (studio.image.guidance) at their identity values: what a picture from a tool
# without them (A1111), or saved before them, was drawn with.
ADAPTIVE_CFG_OFF = 30.0  # the top of its range: never below a CFG, so it never mimics
HOOKS_OFF = {"sharpness": 0.0, "adaptive_cfg": ADAPTIVE_CFG_OFF, "adm_scaler_positive": 1.0,
             "adm_scaler_negative": 1.0, "adm_scaler_end": 0.0}
FOOOCUS_ADAPTIVE_CFG = 7.0  # Fooocus writes adaptive CFG only when it differs from this


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


def request_fields_from_a1111(parsed: dict[str, Any], known_styles: Iterable[str] | None = None
                              ) -> tuple[dict[str, Any], list[str]]:
    """ImageRequest fields an A1111 string gives (and notes on what could not be used).
    ``known_styles``: the style names a request may use; others are left out with a note (None:
    every name is kept; studio.image.picture_settings passes the styles there are)."""
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
    _guidance_fields(fields, out, number)
    _styles_and_more(fields, out, notes, known_styles)
    return out, notes


def _guidance_fields(fields: dict[str, Any], out: dict[str, Any], number: Any) -> None:
    """Sharpness, adaptive CFG, ADM scalers (Fooocus's names) and CLIP skip (A1111's). A picture
    without the hooks' fields was drawn without them: they come back off."""
    out.update(HOOKS_OFF)
    # Fooocus writes adaptive CFG only when it is not its default 7; elsewhere there is none (off).
    out["adaptive_cfg"] = FOOOCUS_ADAPTIVE_CFG if "Sharpness" in fields else ADAPTIVE_CFG_OFF
    for key, name in (("Sharpness", "sharpness"), ("Adaptive CFG", "adaptive_cfg")):
        value = number(key, float)
        if value is not None:
            out[name] = value
    adm = re.findall(r"[-+]?\d*\.?\d+", str(fields.get("ADM Guidance", "")))
    if len(adm) == 3:
        out["adm_scaler_positive"], out["adm_scaler_negative"], out["adm_scaler_end"] = (float(v) for v in adm)
    clip = number("Clip skip", int)
    if clip is not None:
        out["clip_skip"] = clip


def _styles_and_more(fields: dict[str, Any], out: dict[str, Any], notes: list[str],
                     known_styles: Iterable[str] | None) -> None:
    named = fields.get("Styles") or []
    named = [n.strip() for n in (named.split(", ") if isinstance(named, str) else named) if str(n).strip()]
    if named:
        known = set(named if known_styles is None else known_styles)
        out["styles"] = [n for n in named if n in known]
        missing = [n for n in named if n not in known]
        if missing:
            notes.append(f"Styles not found here: {', '.join(missing)}. Put a style file that has them in the "
                         "styles folder to use them.")
    performance = str(fields.get("Performance", "")).strip()
    if performance in PERFORMANCES:
        out["performance"] = performance
    elif performance:
        notes.append(f"Performance {performance!r} has no equivalent here; Speed is used.")
    for pair in [p for p in str(fields.get("Lora weights", "")).split(", ") if p.strip()]:
        notes.append(f"Made with the LoRA {pair.rpartition(':')[0].strip() or pair!r} at weight "
                     f"{pair.rpartition(':')[2].strip()}: pick it in the LoRA list if you have it.")


# --- Fooocus's own scheme ---


def _fooocus_value(data: dict[str, Any], key: str, label: str) -> Any:
    """Fooocus writes snake_case keys; its loader also accepts the labels shown in its log."""
    return data.get(key, data.get(label))


def parse_fooocus(data: dict[str, Any]) -> dict[str, Any]:
    """A Fooocus-scheme parameters dict -> the shape ``parse_a1111`` gives (prompt, negative
    prompt, fields under A1111's names), so ``request_fields_from_a1111`` reads it."""
    get = lambda key, label: _fooocus_value(data, key, label)  # noqa: E731
    fields: dict[str, Any] = {}
    for key, label, a1111 in (("steps", "Steps", "Steps"), ("guidance_scale", "Guidance Scale", "CFG scale"),
                              ("seed", "Seed", "Seed"), ("sharpness", "Sharpness", "Sharpness"),
                              ("adaptive_cfg", "CFG Mimicking from TSNR", "Adaptive CFG"),
                              ("adm_guidance", "ADM Guidance", "ADM Guidance"), ("clip_skip", "CLIP Skip", "Clip skip"),
                              ("performance", "Performance", "Performance"), ("base_model", "Base Model", "Model")):
        value = get(key, label)
        if value not in (None, "", "None"):
            fields[a1111] = str(value)
    size = re.findall(r"\d+", str(get("resolution", "Resolution") or ""))
    if len(size) == 2:
        fields["Size"] = f"{size[0]}x{size[1]}"
    sampler = str(get("sampler", "Sampler") or "")
    scheduler = str(get("scheduler", "Scheduler") or "normal")
    if sampler:
        fields["Sampler"] = FOOOCUS_SAMPLERS.get((sampler, scheduler), f"{sampler} ({scheduler})")
    fields["Styles"] = _literal_list(get("styles", "Styles"))
    loras = [str(get(f"lora_combined_{i}", f"LoRA {i}") or "") for i in range(1, 11)]
    fields["Lora weights"] = ", ".join(
        f"{parts[-2].strip()}: {parts[-1].strip()}" for parts in (lora.split(" : ") for lora in loras if lora)
        if len(parts) >= 2 and parts[-2].strip() not in ("", "None") and parts[0].strip() != "False")
    prompt = str(get("prompt", "Prompt") or "")
    negative = str(get("negative_prompt", "Negative Prompt") or "")
    return {"prompt": prompt, "negative_prompt": negative, "fields": fields}


def _literal_list(value: Any) -> list[str]:
    """Fooocus writes lists as Python's str() of them ("['Fooocus V2', 'Fooocus Sharp']")."""
    if isinstance(value, list):
        return [str(v) for v in value]
    try:
        found = ast.literal_eval(str(value or "[]"))
    except (ValueError, SyntaxError):
        return []
    return [str(v) for v in found] if isinstance(found, (list, tuple)) else []


def _fooocus_json(chunks: dict[str, str]) -> dict[str, Any] | None:
    """The Fooocus-scheme parameters of a PNG, or None (an A1111 text, or Fooocus's A1111 scheme)."""
    text = chunks.get(PARAMETERS_KEY, "").strip()
    if chunks.get(FOOOCUS_SCHEME_KEY, "fooocus").strip().lower() != "fooocus" or not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def read_parameters(path: str | Path) -> dict[str, Any]:
    """What a dropped PNG carries: {"studio": {...}} for the studio's own, {"a1111": {...}} for any
    A1111-style PNG, and for a Fooocus-scheme PNG {"fooocus": its JSON, "a1111": the same under
    A1111's names}. A clear message when there is none."""
    chunks = read_text_chunks(path)
    if STUDIO_KEY in chunks:
        try:
            data = json.loads(chunks[STUDIO_KEY])
            if isinstance(data, dict) and isinstance(data.get("request"), dict):
                return {"studio": data, "parameters": chunks.get(PARAMETERS_KEY, "")}
        except ValueError:
            pass
    fooocus = _fooocus_json(chunks)
    if fooocus is not None:
        return {"fooocus": fooocus, "a1111": parse_fooocus(fooocus), "parameters": chunks[PARAMETERS_KEY]}
    if PARAMETERS_KEY in chunks:
        return {"a1111": parse_a1111(chunks[PARAMETERS_KEY]), "parameters": chunks[PARAMETERS_KEY]}
    raise BadInput("This PNG holds no generation parameters (no A1111 'parameters' text).")
