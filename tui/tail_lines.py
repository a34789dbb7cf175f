"""How each event kind, and a run's state, reads in `runwatch tail`: (kind, text, JSON fields).

Every string from a file goes through `short` (escaped, cut) before it is part of a line;
tail's stream escapes whatever is left (logger.textsafe.TerminalWriter).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from logger import events as ev
from logger.rundata import RunData
from logger.streams import terminal_text
from logger.textsafe import one_line
from logger.values import flatten_into

from .fmt import (
    fmt_duration,
    fmt_size,
    fmt_state,
    fmt_value,
    iso_time,
    last_line,
    short,
)
from .tail_bulk import json_block as json_block  # re-exported: Log lines in bulk live there
from .tail_bulk import log_block as log_block

Line = tuple[str, str, dict[str, Any]]  # kind, human text, JSON fields
ALERT_LEVELS = ("INFO", "WARN", "ERROR")  # W&B's AlertLevel, lowest first


def tags_line(run: RunData, e: ev.SetTags) -> Line:
    now = list(run.tags)
    change = " ".join([f"+{t}" for t in e.add] + [f"-{t}" for t in e.remove])
    if e.tags is not None:
        change = "set " + ",".join(e.tags) + (f" {change}" if change else "")
    text = f"tags  {short(change, 120)}  now: {short(', '.join(now), 120) or '(none)'}"
    return "tags", text, {"tags": now, "add": e.add, "remove": e.remove}


def notes_line(run: RunData, e: ev.SetNotes) -> Line:
    return "notes", f"notes  {short(e.notes, 120) or '(cleared)'}", {"notes": e.notes}


def name_line(run: RunData, e: ev.SetName) -> Line:
    return "name", f"renamed  {short(e.name, 60)}", {"name": e.name}


def artifact_line(run: RunData, e: ev.ArtifactLogged) -> Line:
    text = f"artifact  {short(e.name, 60)}:v{e.version}  {short(e.type, 30)}  {fmt_size(e.size)}"
    if e.aliases:
        text += "  " + ",".join(short(a, 30) for a in e.aliases)
    fields = {"artifact": e.name, "type": e.type, "version": e.version, "digest": e.digest,
              "size": e.size, "aliases": e.aliases}
    return "artifact", text, fields


def alert_line(run: RunData, e: ev.Alert) -> Line:
    """`run.alert(...)`: "ALERT ERROR loss diverged: lr too high" (logger.media's one line)."""
    from logger.media.readback import format_alert

    fields = {"title": e.title, "text": e.text, "level": e.level, "wait_duration": e.wait_duration,
              "suppressed": e.suppressed}
    return "alert", format_alert(e), fields


def alert_rank(level: str) -> int:
    """Where `level` stands among ALERT_LEVELS; a level written by something else ranks as INFO."""
    return ALERT_LEVELS.index(level) if level in ALERT_LEVELS else 0


def file_line(run: RunData, e: ev.FileSaved) -> Line:
    text = f"file  {short(e.path, 100)}  {fmt_size(e.size)}  ({short(e.policy, 10)})"
    return "file", text, {"path": e.path, "policy": e.policy, "size": e.size}


def config_line(run: RunData, e: ev.ConfigUpdate) -> Line:
    flat: dict[str, Any] = {}
    flatten_into(flat, e.values, "", {})
    text = "config  " + " ".join(f"{short(k, 30)}={fmt_value(v, 30, fixed=False)}" for k, v in flat.items())
    return "config", text, {"values": e.values}


def summary_line(run: RunData, e: ev.SummaryUpdate) -> Line:
    flat: dict[str, Any] = {}
    flatten_into(flat, e.values, "", {})
    text = "summary  " + "  ".join(f"{short(k, 40)} {fmt_value(v)}" for k, v in flat.items())
    if e.removed:
        text += "  removed " + ",".join(short(k, 40) for k in e.removed)
    return "summary", text, {"values": e.values, "removed": e.removed}


def system_line(run: RunData, e: ev.SystemStats) -> Line:
    """One system sample: "system  cpu 12%  mem 41%  gpu0 97% 71/80G 71°C 350W" (`--system`);
    JSON has every value under W&B's key names (system.cpu, system.gpu.0.gpu, ...)."""
    v = {k: x for k, x in e.values.items() if type(k) is str and _number(x)}
    parts = [f"cpu {v['cpu']:.0f}%"] if "cpu" in v else []
    mem = v.get("memory_percent", v.get("memory"))
    if mem is not None:
        parts.append(f"mem {mem:.0f}%")
    for i in sorted({int(k.split(".")[1]) for k in v if k.startswith("gpu.") and k.split(".")[1].isdigit()}):
        g = f"gpu.{i}."
        gpu = f"gpu{i}" + (f" {v[g + 'gpu']:.0f}%" if g + "gpu" in v else "")
        if g + "memoryAllocatedBytes" in v and g + "memoryTotalBytes" in v:
            gpu += f" {v[g + 'memoryAllocatedBytes'] / 2**30:.0f}/{v[g + 'memoryTotalBytes'] / 2**30:.0f}G"
        gpu += f" {v[g + 'temp']:.0f}°C" if g + "temp" in v else ""
        gpu += f" {v[g + 'powerWatts']:.0f}W" if g + "powerWatts" in v else ""
        parts.append(gpu)
    return "system", "system  " + ("  ".join(parts) or "(no values)"), {
        "values": {"system." + k: x for k, x in e.values.items() if type(k) is str}}


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and x == x


def console_line(stream: str, text: str) -> Line:
    """One console line as the terminal showed it (`--logs`): colours dropped, any other escape
    sequence shown as text, in both forms."""
    shown = terminal_text(text)
    return "console", f"{short(stream, 10)}  {shown}", {"stream": stream, "text": shown}


RENDER: dict[type, Callable[[RunData, Any], Line]] = {
    ev.SetTags: tags_line, ev.SetNotes: notes_line, ev.SetName: name_line, ev.ArtifactLogged: artifact_line,
    ev.FileSaved: file_line, ev.ConfigUpdate: config_line, ev.SummaryUpdate: summary_line,
    ev.Alert: alert_line,
}


def start_line(run: RunData, e: ev.RunStart) -> Line:
    seg = run.first_segment
    fields = {
        "config": e.config, "tags": list(e.tags), "notes": e.notes, "group": e.group,
        "job_type": e.job_type, "resumed": e.resumed, "host": seg.host if seg else None,
        "pid": seg.pid if seg else None, "command": e.command,
    }
    flat: dict[str, Any] = {}
    flatten_into(flat, e.config, "", {})
    text = "resumed" if e.resumed else "started"
    if e.tags:
        text += "  tags " + ",".join(short(t, 30) for t in e.tags)
    items = list(flat.items())
    if items:
        text += "  " + " ".join(f"{short(k, 30)}={fmt_value(v, 30, fixed=False)}" for k, v in items[:8])
        if len(items) > 8:
            text += f" (+{len(items) - 8} more)"
    return "start", text, fields


def state_line(run: RunData) -> Line:
    fields = {"state": run.state, "exit_code": run.exit_code, "error": run.error,
              "runtime": round(run.runtime, 3)}
    text = fmt_state(run.state)
    if run.exit_code is not None and run.state != "finished":
        text += f"  exit {run.exit_code}"
    text += f"  after {fmt_duration(run.runtime)}"
    if run.error:
        text += "  " + one_line(last_line(run.error), 200)
    elif run.state == "crashed":
        text += "  (its process ended without finishing the run)"
    return "state", text, fields


def latest_line(run: RunData, keys: tuple[str, ...], values: dict[str, Any],
                step: int | None = None) -> Line:
    step = run.step if step is None else step
    fields = {"state": run.state, "exit_code": run.exit_code, "error": run.error,
              "step": step, "runtime": round(run.runtime, 3),
              "created": iso_time(run.created_at), "values": {k: values[k] for k in keys}}
    text = fmt_state(run.state)
    if step is not None:
        text += f"  step {step}"
    text += f"  {fmt_duration(run.runtime)}"
    if keys:
        text += "  " + "  ".join(f"{short(k, 40)} {fmt_value(values[k])}" for k in keys)
    if run.error:
        text += "  " + one_line(last_line(run.error), 120)
    return "latest", text, fields


def run_matches(run: RunData, ref: str) -> bool:
    return ref in (run.path, run.id, run.name, f"{run.project}/{run.name}")


_EDITS = (ev.SetTags, ev.SetNotes, ev.SetName)


def edits_in_time_order(events: list[Any]) -> list[Any]:
    """Events with the edits among them sorted by time (stable), everything else in place."""
    slots = [i for i, e in enumerate(events) if type(e) in _EDITS]
    if len(slots) < 2:
        return events
    out = list(events)
    for i, edit in zip(slots, sorted((events[i] for i in slots), key=time_of)):
        out[i] = edit
    return out


def time_of(event: Any) -> float:
    return getattr(event, "time", 0.0)
