"""A run's metadata, config, summary, artifacts and files as plain Rich Text (no markup).

Built from RunData in a worker thread with the follower's lock held; every string that came
from a file goes through `safe_text`, so `[bold]` shows literally and escapes cannot act.
"""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text

from logger.rundata import RunData
from logger.textsafe import safe_text

from ..fmt import fmt_duration
from .runview import STATE_GLYPHS, flatten
from .table_model import fmt_number


def _when(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else "-"


def _pairs(text: Text, pairs: list[tuple[str, Any]]) -> None:
    width = max((len(k) for k, _ in pairs), default=0)
    for key, value in pairs:
        text.append(f"{key:<{width}}  ", style="bold")
        text.append(value if isinstance(value, Text) else safe_text("-" if value is None else value))
        text.append("\n")


def overview(run: RunData) -> Text:
    text = Text()
    seg = run.first_segment
    start = run.start
    state = f"{STATE_GLYPHS.get(run.state, '?')} {run.state}"
    if run.exit_code is not None:
        state += f" (exit code {run.exit_code})"
    pairs: list[tuple[str, Any]] = [
        ("name", run.name), ("id", run.id), ("project", run.project), ("state", state),
        ("created", _when(run.created_at)), ("updated", _when(run.updated_at)),
        ("runtime", fmt_duration(run.runtime)), ("step", run.step),
        ("group", run.group), ("job type", run.job_type),
        ("tags", ", ".join(run.tags) or "-"),
        ("host", seg.host if seg else None), ("pid", seg.pid if seg else None),
        ("command", " ".join(start.command) if start else None),
        ("python", start.python if start else None), ("cwd", start.cwd if start else None),
        ("git", f"{start.git_commit or '-'} ({start.git_branch or '-'})" if start else None),
        ("directory", str(run.dir)), ("segments", len(run.segments)),
    ]
    _pairs(text, pairs)
    if run.skipped_frames:
        text.append(f"\n! {run.skipped_frames} damaged frame(s) skipped while reading\n",
                    style="bold")
    for error in run.errors:
        text.append("\n! " + safe_text(error) + "\n", style="bold")
    if run.history.rewritten:
        text.append(f"\n{run.history.rewritten} step(s) were logged again (a resumed run); "
                    "the last value written for a step is shown\n")
    text.append("\nnotes\n", style="bold")
    text.append(safe_text(run.notes or "-", newlines=True) + "\n")
    if run.error:
        text.append("\nerror\n", style="bold")
        text.append(safe_text(run.error, newlines=True) + "\n")
    return text


def config_text(run: RunData) -> Text:
    text = Text()
    flat = flatten(run.config)
    if not flat:
        return Text("no config")
    _pairs(text, [(safe_text(k), fmt_number(v)) for k, v in sorted(flat.items())])
    return text


def summary_text(run: RunData) -> Text:
    text = Text()
    flat = run.summary_flat()
    if not flat:
        return Text("no summary yet")
    _pairs(text, [(safe_text(k), fmt_number(v)) for k, v in sorted(flat.items())])
    return text


def files_text(run: RunData) -> Text:
    text = Text()
    text.append("artifacts\n", style="bold")
    if not run.artifacts:
        text.append("  none\n")
    for a in run.artifacts:
        aliases = ", ".join(a.aliases)
        text.append(f"  {safe_text(a.name)}:v{a.version}  {safe_text(a.type)}  {a.size:,} bytes  "
                    f"{a.digest[:12]}  {safe_text(aliases)}\n")
    text.append("\nfiles (saved under files/)\n", style="bold")
    if not run.files:
        text.append("  none\n")
    for f in run.files:
        text.append(f"  {safe_text(f.path)}  {f.size:,} bytes  policy={safe_text(f.policy)}  "
                    f"{_when(f.time)}\n")
    return text


def members_text(runs: list[RunData]) -> Text:
    """A group's runs, one line each: state, name, step and the config keys that differ."""
    text = Text()
    flats = [flatten(r.config) for r in runs]
    keys = sorted({k for f in flats for k in f})
    varying = [k for k in keys if len({repr(f.get(k)) for f in flats}) > 1]
    for run, flat in zip(runs, flats):
        text.append(f"{STATE_GLYPHS.get(run.state, '?')} {run.state:<9} ")
        text.append(safe_text(run.name)[:30].ljust(31))
        text.append(f"step {run.step if run.step is not None else '-':<8} ")
        text.append(safe_text(" ".join(f"{k}={fmt_number(flat.get(k))}" for k in varying)))
        text.append("\n")
    return text
