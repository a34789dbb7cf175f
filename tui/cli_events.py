"""How each event kind other than a logged step reads: (kind, human text, JSON fields).

Every string from a file goes through `short` (escaped, cut) before it is part of a line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from logger import events as ev
from logger.rundata import RunData
from logger.values import flatten_into

from .cli_common import fmt_value, short


def tags_line(run: RunData, e: ev.SetTags) -> tuple[str, str, dict[str, Any]]:
    now = list(run.tags)
    change = " ".join([f"+{t}" for t in e.add] + [f"-{t}" for t in e.remove])
    if e.tags is not None:
        change = "set " + ",".join(e.tags) + (f" {change}" if change else "")
    text = f"tags  {short(change, 120)}  now: {short(', '.join(now), 120) or '(none)'}"
    return "tags", text, {"tags": now, "add": e.add, "remove": e.remove}


def notes_line(run: RunData, e: ev.SetNotes) -> tuple[str, str, dict[str, Any]]:
    return "notes", f"notes  {short(e.notes, 120) or '(cleared)'}", {"notes": e.notes}


def name_line(run: RunData, e: ev.SetName) -> tuple[str, str, dict[str, Any]]:
    return "name", f"renamed  {short(e.name, 60)}", {"name": e.name}


def artifact_line(run: RunData, e: ev.ArtifactLogged) -> tuple[str, str, dict[str, Any]]:
    text = f"artifact  {short(e.name, 60)}:v{e.version}  {short(e.type, 30)}  {fmt_size(e.size)}"
    if e.aliases:
        text += "  " + ",".join(short(a, 30) for a in e.aliases)
    fields = {"artifact": e.name, "type": e.type, "version": e.version, "digest": e.digest,
              "size": e.size, "aliases": e.aliases}
    return "artifact", text, fields


def file_line(run: RunData, e: ev.FileSaved) -> tuple[str, str, dict[str, Any]]:
    text = f"file  {short(e.path, 100)}  {fmt_size(e.size)}  ({short(e.policy, 10)})"
    return "file", text, {"path": e.path, "policy": e.policy, "size": e.size}


def config_line(run: RunData, e: ev.ConfigUpdate) -> tuple[str, str, dict[str, Any]]:
    flat: dict[str, Any] = {}
    flatten_into(flat, e.values, "", {})
    text = "config  " + " ".join(f"{short(k, 30)}={fmt_value(v, 30, fixed=False)}" for k, v in flat.items())
    return "config", text, {"values": e.values}


def summary_line(run: RunData, e: ev.SummaryUpdate) -> tuple[str, str, dict[str, Any]]:
    flat: dict[str, Any] = {}
    flatten_into(flat, e.values, "", {})
    text = "summary  " + "  ".join(f"{short(k, 40)} {fmt_value(v)}" for k, v in flat.items())
    if e.removed:
        text += "  removed " + ",".join(short(k, 40) for k in e.removed)
    return "summary", text, {"values": e.values, "removed": e.removed}


RENDER: dict[type, Callable[[RunData, Any], tuple[str, str, dict[str, Any]]]] = {
    ev.SetTags: tags_line, ev.SetNotes: notes_line, ev.SetName: name_line, ev.ArtifactLogged: artifact_line,
    ev.FileSaved: file_line, ev.ConfigUpdate: config_line, ev.SummaryUpdate: summary_line,
}


def fmt_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"
