"""Reading a training table (CSV, JSON, JSONL, TXT) and turning rows into examples.

Causal LM rows become (prefix, text) pairs through a template; classification rows become
(text, label id) pairs with a label mapping. Every problem is a sentence, never a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.errors import BadInput
from studio.train.config import TrainConfig

SUFFIXES = (".csv", ".json", ".jsonl", ".txt")
MAX_LABELS = 100  # more distinct values than this is text, not labels
# Column pairs recognised without asking: (prompt column, response column).
KNOWN_PAIRS = (("act", "prompt"), ("prompt", "response"), ("instruction", "output"), ("question", "answer"),
               ("input", "output"))
TEXT_NAMES = ("text", "review", "sentence", "content")
LABEL_NAMES = ("label", "sentiment", "labels", "class")


def read_rows(path: str | Path) -> list[dict[str, str]]:
    """The file's rows as dicts of strings (a TXT file is one "text" column, a line per row)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise BadInput(f"{path.name}: use a .csv, .json, .jsonl or .txt file.", key="errors.dataset_type",
                       name=path.name[:80])
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(
            f"{path.name} is not UTF-8 text (byte {exc.start} cannot be read). Save it as UTF-8 and upload again."
        ) from None
    if not text.strip():
        raise BadInput(f"{path.name} is empty: it needs at least one row.", key="errors.dataset_empty",
                       name=path.name[:80])
    if suffix == ".txt":
        rows = [{"text": line} for line in text.splitlines() if line.strip()]
    elif suffix == ".csv":
        rows = list(csv.DictReader(io.StringIO(text)))
    elif suffix == ".jsonl":
        rows = [_json(line, path.name, number) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    else:
        data = _json(text, path.name)
        rows = data.get("data", data.get("rows")) if isinstance(data, dict) else data
        if not isinstance(rows, list):
            raise BadInput(f"{path.name}: the JSON must be a list of objects (or {{\"data\": [...]}}).")
    rows = [_stringify(row, path.name, number) for number, row in enumerate(rows, 1)]
    if not rows:
        raise BadInput(f"{path.name} has a header but no rows.", key="errors.dataset_no_rows", name=path.name[:80])
    return rows


def _json(text: str, name: str, line: int | None = None) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {line}" if line else f"line {exc.lineno}"
        raise BadInput(f"{name}: {where} is not valid JSON ({exc.msg}).") from None


def _stringify(row: Any, name: str, number: int) -> dict[str, str]:
    if not isinstance(row, dict):
        raise BadInput(f"{name}: row {number} is not an object with named columns.")
    return {str(k).strip(): "" if v is None else str(v) for k, v in row.items() if k is not None}


def columns(rows: list[dict[str, str]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows[:200]:
        seen.update(dict.fromkeys(row))
    return list(seen)


def guess_mapping(cols: list[str], task: str) -> dict[str, str]:
    """Column mapping a newcomer would pick: act/prompt, prompt/response, text/label, ..."""
    lower = {c.lower(): c for c in cols}
    if task == "classification":
        text = next((lower[n] for n in TEXT_NAMES if n in lower), cols[0] if cols else "")
        label = next((lower[n] for n in LABEL_NAMES if n in lower), cols[-1] if len(cols) > 1 else "")
        return {"text_column": text, "label_column": label}
    for prompt, response in KNOWN_PAIRS:
        if prompt in lower and response in lower:
            return {"prompt_column": lower[prompt], "response_column": lower[response]}
    return {"prompt_column": cols[0] if cols else "", "response_column": ""}


def _need(cols: list[str], name: str, what: str) -> None:
    if not name:
        raise BadInput(f"Pick the {what} column.")
    if name not in cols:
        raise BadInput(f"The file has no column {name!r} for the {what}; it has: {', '.join(cols)}.")


def _limit(rows: list, config: TrainConfig) -> list:
    return rows[: config.first_rows] if config.first_rows else rows


# --- causal LM -------------------------------------------------------------------------


@dataclass
class CausalExample:
    prefix: str  # the part not trained on when "train on responses only"
    text: str  # the whole formatted example


def format_row(row: dict[str, str], config: TrainConfig) -> CausalExample:
    prompt = row.get(config.prompt_column, "")
    if not config.response_column:  # plain text: the prompt column is the whole example
        return CausalExample("", prompt)
    head, _, tail = config.template.partition("{response}")
    prefix = head.replace("{prompt}", prompt)
    return CausalExample(prefix, prefix + row.get(config.response_column, "") + tail.replace("{prompt}", prompt))


def causal_examples(rows: list[dict[str, str]], config: TrainConfig) -> list[CausalExample]:
    cols = columns(rows)
    _need(cols, config.prompt_column, "prompt")
    if config.response_column:
        _need(cols, config.response_column, "response")
    examples = [format_row(row, config) for row in _limit(rows, config)]
    examples = [e for e in examples if e.text.strip()]
    if not examples:
        raise BadInput("Every selected row is empty after formatting: check the column mapping.")
    return examples


def prompt_prefix(prompt: str, config: TrainConfig) -> str:
    """What the model is given at inference: the template up to the response."""
    if not config.response_column:
        return prompt
    return config.template.partition("{response}")[0].replace("{prompt}", prompt)


# --- classification ----------------------------------------------------------------------


@dataclass
class Classified:
    texts: list[str]
    labels: list[int]
    label_names: list[str]  # id -> name
    eval_texts: list[str]
    eval_labels: list[int]


def classification_examples(rows: list[dict[str, str]], config: TrainConfig) -> Classified:
    cols = columns(rows)
    _need(cols, config.text_column, "text")
    _need(cols, config.label_column, "label")
    picked = _limit(rows, config)
    missing = [n for n, row in enumerate(picked, 1) if not row.get(config.label_column, "").strip()]
    if missing:
        raise BadInput(f"Rows {', '.join(map(str, missing[:5]))} have no label: every row needs one.")
    names = sorted({row[config.label_column].strip() for row in picked}, key=_label_order)
    if len(names) < 2:
        raise BadInput(f"The label column {config.label_column!r} holds only one label ({names[0]!r}): a classifier needs at least two.")
    if len(names) > MAX_LABELS:
        raise BadInput(
            f"The label column {config.label_column!r} has {len(names)} different values: that looks like text, "
            "not labels. Pick the column that holds the class (e.g. positive / negative)."
        )
    ids = {name: i for i, name in enumerate(names)}
    pairs = [(row.get(config.text_column, ""), ids[row[config.label_column].strip()]) for row in picked]
    order = list(range(len(pairs)))
    random.Random(config.seed).shuffle(order)
    held = int(round(len(pairs) * config.held_out))
    eval_idx, train_idx = order[:held], order[held:]
    if not train_idx:
        raise BadInput("Nothing is left to train on after the held-out split: lower the held-out share.")
    return Classified(
        texts=[pairs[i][0] for i in train_idx], labels=[pairs[i][1] for i in train_idx], label_names=names,
        eval_texts=[pairs[i][0] for i in eval_idx], eval_labels=[pairs[i][1] for i in eval_idx],
    )


def _label_order(name: str) -> tuple:
    return (0, int(name), "") if name.lstrip("-").isdigit() else (1, 0, name)


def preview(rows: list[dict[str, str]], config: TrainConfig) -> dict[str, Any]:
    """One formatted row (causal LM) or the label mapping (classification), for the page."""
    if config.task == "classification":
        data = classification_examples(rows, config)
        counts = {name: 0 for name in data.label_names}
        for label in data.labels + data.eval_labels:
            counts[data.label_names[label]] += 1
        return {"rows": len(rows), "used_rows": len(data.labels) + len(data.eval_labels),
                "train_rows": len(data.labels), "held_out_rows": len(data.eval_labels),
                "label_mapping": {name: i for i, name in enumerate(data.label_names)}, "label_counts": counts}
    examples = causal_examples(rows, config)
    return {"rows": len(rows), "used_rows": len(examples), "example": examples[0].text,
            "trained_part": examples[0].text[len(examples[0].prefix):] if config.train_on_responses_only else examples[0].text}
