"""HTML for the per-token view of a reply and the explorer's bar chart (plain strings, no Gradio)."""

from __future__ import annotations

from html import escape

from studio.text.explorer import NextTokenTable
from studio.text.results import TokenInfo


def visible(token: str) -> str:
    """Whitespace made visible, so " the" and "the" can be told apart."""
    return token.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥") or "∅"


def probability_colour(p: float) -> str:
    """Red for unlikely choices, through yellow, to green for near-certain ones."""
    return f"hsl({max(0.0, min(1.0, p)) * 120:.0f}, 75%, 82%)"


def token_spans(tokens: list[TokenInfo]) -> str:
    if not tokens:
        return "<p class='text-tokens-empty'>—</p>"
    spans = []
    for token in tokens:
        p = token.probability if token.probability is not None else 0.0
        alts = "\n".join(f"{visible(t)}  {a:.1%}" for t, a in token.alternatives)
        title = f"p = {p:.1%}\nTop alternatives:\n{alts}" if alts else f"p = {p:.1%}"
        spans.append(
            f"<span class='text-token' style='background:{probability_colour(p)};color:#111;"
            f"border-radius:3px;padding:0 1px;margin:0 1px;white-space:pre-wrap' "
            f"title='{escape(title, quote=True)}' data-p='{p:.4f}'>{escape(token.text)}</span>"
        )
    legend = (
        "<div style='font-size:0.8em;margin-top:6px'>"
        f"<span style='background:{probability_colour(0.05)};color:#111;padding:0 4px'>5%</span> "
        f"<span style='background:{probability_colour(0.5)};color:#111;padding:0 4px'>50%</span> "
        f"<span style='background:{probability_colour(0.95)};color:#111;padding:0 4px'>95%</span>"
        " — probability each token had when it was chosen; hover for the alternatives.</div>"
    )
    return f"<div class='text-token-view' style='line-height:1.9'>{''.join(spans)}</div>{legend}"


def candidate_bars(table: NextTokenTable) -> str:
    """Two bars per candidate: softmax at T=1 (grey) and after the filters (blue); removed ones struck out."""
    if not table.candidates:
        return ""
    scale = max(max(c.probability, c.filtered_probability) for c in table.candidates) or 1.0
    cell = "border:none;padding:1px 4px;"
    rows = []
    for c in table.candidates:
        style = "text-decoration:line-through;opacity:0.45" if not c.kept else ""
        cls = "cand-removed" if not c.kept else "cand-kept"
        rows.append(
            f"<tr class='{cls}' style='border:none;{style}'>"
            f"<td style='{cell}text-align:right'>{c.rank}</td>"
            f"<td style='{cell}font-family:monospace;white-space:pre'>{escape(visible(c.token))}</td>"
            f"<td style='{cell}width:65%'>"
            f"<div style='background:#bbb;height:7px;width:{100 * c.probability / scale:.1f}%'></div>"
            f"<div style='background:#3b82f6;height:9px;width:{100 * c.filtered_probability / scale:.1f}%'></div>"
            "</td>"
            f"<td style='{cell}font-family:monospace;white-space:nowrap'>{c.probability:.1%} → {c.filtered_probability:.1%}</td>"
            "</tr>"
        )
    caption = (
        f"{table.kept_count} of {table.vocabulary_size} tokens survive the filters · "
        "grey: softmax at T=1 · blue: after temperature / top-k / top-p / min-p"
    )
    note = f"<div style='font-size:0.85em'>{escape(table.note)}</div>" if table.note else ""
    return (
        f"<div class='next-token-bars'><div style='font-size:0.85em;margin-bottom:4px'>{escape(caption)}</div>"
        f"{note}<table style='width:100%;border-collapse:collapse;border:none;margin:0'>{''.join(rows)}</table></div>"
    )
