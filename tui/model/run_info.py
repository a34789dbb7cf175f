"""A run's metadata, config, summary, artifacts and files as a RunInfo Struct (no Rich here).

Built from RunData in a worker thread, inside `RunStore.with_runs`; every string that came
from a file is made safe here (`safe_text`: control characters shown as escapes), so the
widget that draws a RunInfo only wraps plain strings in `rich.text.Text`, never markup.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from logger import events as ev
from logger.artifact_store import users_of_version
from logger.artifact_use import used_by_run
from logger.query import shown_summary
from logger.rundata import RunData
from logger.textsafe import safe_text

from ..fmt import fmt_duration, fmt_exact
from .runview import STATE_GLYPHS, flatten, last_logged

Pairs = tuple[tuple[str, str], ...]  # (label, value), both already safe


class RunInfo(msgspec.Struct, frozen=True):
    """What the detail screen's Run, Config, Summary and Files tabs say about one run."""

    overview: Pairs
    warnings: tuple[str, ...]  # damaged frames, unreadable segments
    rewritten: str  # a note when steps were logged again, or ""
    notes: str  # may hold newlines
    error: str | None
    config: Pairs
    summary: Pairs
    artifacts: tuple[str, ...]  # one line each, with the runs that used each version
    used: tuple[str, ...]  # the artifact versions this run used (its inputs)
    files: tuple[str, ...]


def _when(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else "-"


def _safe(value: Any) -> str:
    return safe_text("-" if value is None else value)


def state_label(state: str) -> str:
    """"▶ running", or a crafted state's escaped text after "?"."""
    return f"{STATE_GLYPHS.get(state, '?')} {safe_text(state)}"


def _overview(run: RunData) -> Pairs:
    seg = run.first_segment
    start = run.start
    state = state_label(run.state)
    if run.exit_code is not None:
        state += f" (exit code {_safe(run.exit_code)})"
    pairs: list[tuple[str, Any]] = [
        ("name", run.name), ("id", run.id), ("project", run.project), ("state", state),
        ("created", _when(run.created_at)), ("updated", _when(last_logged(run))),
        ("runtime", fmt_duration(run.runtime)), ("step", run.step),
        ("group", run.group), ("job type", run.job_type),
        ("tags", ", ".join(run.tags) or "-"),
        ("host", seg.host if seg else None), ("pid", seg.pid if seg else None),
        ("command", " ".join(start.command) if start else None),
        ("python", start.python if start else None), ("cwd", start.cwd if start else None),
        ("git", f"{start.git_commit or '-'} ({start.git_branch or '-'})" if start else None),
        ("directory", str(run.dir)), ("segments", len(run.segments)),
    ]
    return tuple((label, _safe(value)) for label, value in pairs)


def _flat_pairs(flat: dict[str, Any]) -> Pairs:
    return tuple((safe_text(k), fmt_exact(v)) for k, v in sorted(flat.items()))


def run_info(run: RunData) -> RunInfo:
    """Everything the info tabs show of `run`, made safe. Hold the store's lock (with_runs)."""
    warnings = []
    if run.skipped_frames:
        warnings.append(f"{run.skipped_frames} damaged frame(s) skipped while reading")
    if run.dropped_rows:
        warnings.append(f"{run.dropped_rows} row(s) with a step outside 64 bits skipped while reading")
    warnings += [safe_text(error) for error in run.errors]
    rewritten = ""
    if run.rewritten:
        rewritten = (f"{run.rewritten} step(s) were logged again (a resumed run); "
                     "the last value written for a step is shown")
    artifacts = tuple(
        f"{safe_text(a.name)}:v{_safe(a.version)}  {safe_text(a.type)}  {_size(a.size)}  "
        f"{safe_text(a.digest[:12])}  {safe_text(', '.join(a.aliases))}{_used_by(run, a)}"
        for a in run.artifacts)
    files = tuple(f"{safe_text(f.path)}  {_size(f.size)}  policy={safe_text(f.policy)}  "
                  f"{_when(f.time)}" for f in run.files)
    return RunInfo(
        overview=_overview(run), warnings=tuple(warnings), rewritten=rewritten,
        notes=safe_text(run.notes or "-", newlines=True),
        error=safe_text(run.error, newlines=True) if run.error else None,
        config=_flat_pairs(flatten(run.config)), summary=_flat_pairs(shown_summary(run.summary_flat())),
        artifacts=artifacts, used=_used(run), files=files)


def _size(size: Any) -> str:
    return f"{size:,} bytes" if isinstance(size, int) else f"{_safe(size)} bytes"


def members(runs: list[RunData]) -> tuple[str, ...]:
    """A group's runs, one line each: state, name, step and the config keys that differ."""
    flats = [flatten(r.config) for r in runs]
    keys = sorted({k for f in flats for k in f})
    varying = [k for k in keys if len({repr(f.get(k)) for f in flats}) > 1]
    lines = []
    for run, flat in zip(runs, flats):
        state = f"{STATE_GLYPHS.get(run.state, '?')} {safe_text(run.state):<9} "
        name = safe_text(run.name)[:30].ljust(31)
        step = f"step {run.step if run.step is not None else '-':<8} "
        values = " ".join(f"{safe_text(k)}={fmt_exact(flat.get(k))}" for k in varying)
        lines.append(state + name + step + values)
    return tuple(lines)


# -- lineage: logger/artifact_store.py's use records (a few small files a version) ------------
def _used_by(run: RunData, art: ev.ArtifactLogged) -> str:
    users = users_of_version(run.dir.parent.parent, run.project, art.name, f"v{art.version}")
    if not users:
        return ""
    names = [run_id if project == run.project else f"{project}/{run_id}" for project, run_id in users]
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"  used by {safe_text(shown)}"


def _used(run: RunData) -> tuple[str, ...]:
    arts = used_by_run(run.dir.parent.parent, run.project, run.id)
    return tuple(f"{safe_text(a.qualified_name)}  {safe_text(a.type)}  "
                 f"{safe_text((a.digest or '')[:12])}" for a in arts)
