"""Write the results of a run: ``latest.json`` (everything) and ``latest.md`` (the table)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.common import Figure


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ms":
        return f"{value:.2f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    return f"{value:,.0f} {unit}"


def _ratio(figure: Figure) -> str:
    ratio = figure.ratio
    if ratio is None:
        return "—"
    return f"{ratio:.3f}×" if ratio < 10 else f"{ratio:.1f}×"


def _met(figure: Figure) -> str:
    if figure.status != "measured":
        return f"{figure.status}: {figure.reason}"
    if figure.target is None:
        return "—"
    return ("✅ " if figure.met else "❌ ") + figure.target.verdict(figure.value)


def markdown(document: dict[str, Any], figures: list[Figure]) -> str:
    machine = document["machine"]
    lines = [
        f"Run: `{document['command']}` at {document['finished_at']} "
        f"({'quick sizes' if document['quick'] else 'full sizes'}, {document['duration_s']:.0f} s).",
        "",
        f"Machine: {machine['cpu_model']}, {machine['cores']} logical cores, {machine['memory_gb']} GB RAM; "
        f"Python {machine['python']}; SQLite {machine['sqlite']}; "
        f"PostgreSQL {machine['postgresql'] or 'not available'}; {machine['os']}.",
        "",
        "| benchmark | backend | metric | measured | baseline (same run) | ratio to baseline | target | result |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for figure in figures:
        baseline = "—"
        if figure.baseline_name:
            baseline = f"{_number(figure.baseline_value, figure.baseline_unit or figure.unit)} ({figure.baseline_name})"
        lines.append(
            f"| {figure.benchmark} | {figure.backend} | {figure.metric} | {_number(figure.value, figure.unit)} | "
            f"{baseline} | {_ratio(figure)} | {figure.target.text if figure.target else '—'} | {_met(figure)} |"
        )
    for benchmark, error in document.get("errors", {}).items():
        lines.append(f"| {benchmark} | — | — | — | — | — | — | failed: {error} |")
    if document.get("notes"):
        lines += ["", *[f"- {note}" for note in document["notes"]]]
    return "\n".join(lines) + "\n"


def write(directory: Path, document: dict[str, Any], figures: list[Figure]) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    document = {**document, "figures": [figure.to_json() for figure in figures]}
    json_path, md_path = directory / "latest.json", directory / "latest.md"
    # Write beside and rename, so an interrupted run never leaves half a file behind.
    for path, text in ((json_path, json.dumps(document, indent=2, ensure_ascii=False) + "\n"),
                       (md_path, markdown(document, figures))):
        scratch = path.with_suffix(path.suffix + ".tmp")
        scratch.write_text(text, encoding="utf-8")
        scratch.replace(path)
    return json_path, md_path
