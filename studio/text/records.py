"""Each finished generation is saved as JSON with everything needed to reproduce it
(model, mode, prompts, sampling settings, seed) next to what came out. API keys never are."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from studio.errors import BadInput
from studio.text.results import GenerationRequest, GenerationResult
from studio.text.sampling import SamplingSettings, validate


def save_generation(folder: Path, request: GenerationRequest, result: GenerationResult) -> Path:
    """Write ``text-<time>.json`` into ``folder`` (the user's session folder); returns its path."""
    stamp = dt.datetime.now()
    record = {
        "saved_at": stamp.isoformat(timespec="seconds"),
        "backend": result.backend,
        "model": result.model,
        "model_id": request.model_id,
        "adapter": result.adapter,  # "name · job id" of a trained adapter, "" for none
        "mode": request.mode,
        "system_prompt": request.system_prompt,
        "history": request.history,
        "prompt": request.prompt,
        "settings": request.settings.as_dict(),
        "seed": result.seed,
        "reply": result.text,
        "prompt_tokens": result.prompt_tokens,
        "generated_tokens": result.generated_tokens,
        "tokens_per_second": round(result.tokens_per_second, 2),
        "stopped_by": result.stopped_by,
        "notes": result.notes,
    }
    path = Path(folder) / f"text-{stamp:%H%M%S-%f}.json"
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


MAX_RECORD_BYTES = 2 * 1024 * 1024


def load_generation(path: Path) -> tuple[GenerationRequest, int | None]:
    """A saved record read back as a request (settings validated) and the seed it used."""
    path = Path(path)
    if path.stat().st_size > MAX_RECORD_BYTES:
        raise BadInput("That file is too large to be a saved generation (over 2 MB).")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        settings = validate(SamplingSettings(**record["settings"]))
        request = GenerationRequest(
            prompt=str(record.get("prompt", "")),
            mode=str(record.get("mode", "chat")),
            model_id=record.get("model_id") or None,
            system_prompt=str(record.get("system_prompt", "")),
            history=list(record.get("history", [])),
            settings=settings,
        )
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        raise BadInput("That file is not a generation saved by this studio (a text-*.json record).") from None
    seed = record.get("seed")
    return request, seed if isinstance(seed, int) else None
