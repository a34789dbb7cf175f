"""Reading media back, in W&B's Public API shapes: `run.file(path).download()`, tables as
rows or DataFrames, alerts and charts, and one-line descriptions for `show` and `tail`.

History rows already hold W&B's media JSON (`{"_type": "image-file", "path": ...}`); this
module resolves those paths inside the run's files/ directory (never outside it) and turns
the read-back events (`Alert`, `Chart`) into plain dicts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec

from .. import events as ev
from ..textsafe import one_line

MAX_ALERTS = 10_000  # alerts a reader keeps per run (rate-limited writers make far fewer)
_json_decode = msgspec.json.Decoder().decode
_LIST_NAMES = {"images/separated": "Images", "audio": "Audio", "videos": "Videos", "html": "Html",
               "object3D": "Object3D", "molecule": "Molecules"}
_FILE_NAMES = {"image-file": "Image", "table-file": "Table", "incremental-table-file": "Table",
               "audio-file": "Audio", "video-file": "Video", "html-file": "Html",
               "object3D-file": "Object3D", "molecule-file": "Molecule", "plotly-file": "Plotly",
               "histogram": "Histogram"}


def apply_event(extras: dict[str, Any], event: Any) -> None:
    """What RunData keeps of the media events: alerts in order (bounded), the last chart per key."""
    if type(event) is ev.Alert:
        alerts = extras.setdefault("alerts", [])
        if len(alerts) < MAX_ALERTS:
            alerts.append(event)
        else:
            extras["alerts_dropped"] = extras.get("alerts_dropped", 0) + 1
    elif type(event) is ev.Chart:
        extras.setdefault("charts", {})[event.key] = event


def describe(value: Any) -> str:
    """A media value from a history row in a few words ("Image 64x64 png"); "" for others."""
    if not isinstance(value, dict) or not isinstance(value.get("_type"), str):
        return ""
    kind = value["_type"]
    size = _size(value)
    if kind in _LIST_NAMES:
        count = value.get("count")
        text = f"{count if isinstance(count, int) else '?'} {_LIST_NAMES[kind]}"
        return one_line(f"{text} {size} {value.get('format') or ''}".strip())
    name = _FILE_NAMES.get(kind)
    if name is None:  # a dict of the script's own that happens to hold "_type": shown as data
        return ""
    if kind == "histogram":
        values = value.get("values")
        return f"Histogram {len(values) if isinstance(values, list) else '?'} bins"
    if name == "Table":
        return f"Table {value.get('nrows', '?')} rows x {value.get('ncols', '?')} cols"
    if kind == "audio-file" and isinstance(value.get("duration"), (int, float)):
        return f"Audio {value['duration']:.1f}s"
    fmt = value.get("format")
    if fmt is None and isinstance(value.get("path"), str):
        fmt = value["path"].rsplit(".", 1)[-1]
    return one_line(" ".join(p for p in (name, size, fmt if isinstance(fmt, str) else "") if p))


def media_keys(history: Any) -> dict[str, str]:
    """History keys whose last value is media, with its `_type` (what the media panel lists)."""
    out = {}
    for key, col in history.columns.items():
        last = col.last_value
        if col.kind == "o" and describe(last):
            out[key] = last["_type"]
    return out


def media_steps(history: Any, key: str) -> list[tuple[int, dict[str, Any]]]:
    """(step, media JSON) for each step `key` was logged as media: the panel's step slider."""
    col = history.columns.get(key)
    if col is None:
        return []
    steps, values = col.series()
    return [(s, v) for s, v in zip(steps, values) if describe(v)]


def _size(value: dict[str, Any]) -> str:
    w, h = value.get("width"), value.get("height")
    return f"{w}x{h}" if isinstance(w, int) and isinstance(h, int) else ""


def format_alert(alert: Any) -> str:
    """One line for `tail` and the app's notification: "ALERT WARN  loss diverged: lr too high"."""
    get = alert.get if isinstance(alert, dict) else lambda k, d=None: getattr(alert, k, d)
    text = get("text") or ""
    line = f"ALERT {get('level', 'INFO'):<5} {get('title', '')}" + (f": {text}" if text else "")
    line += " (suppressed: within wait_duration)" if get("suppressed") else ""
    return one_line(" ⏎ ".join(str(line).splitlines()))  # a multi-line title or text stays whole


def alert_dict(event: ev.Alert) -> dict[str, Any]:
    return {"title": event.title, "text": event.text, "level": event.level,
            "wait_duration": event.wait_duration, "time": event.time, "suppressed": event.suppressed}


def run_file_path(run_dir: Path, name: str) -> Path:
    """`name` (a history ref's `path`) inside the run's files/ directory; refused if outside."""
    files = (run_dir / "files").resolve()
    path = (files / name).resolve()
    if files != path and files not in path.parents:
        raise ValueError(f"file {name!r} is outside the run's files/ directory")
    return path


def load_table(run_dir: Path, ref: dict[str, Any]) -> Any:
    """The `Table` a history value refers to (its `.table.json` read back). An incremental
    table's value names its earlier increments: read back, they are the whole table so far."""
    from .table import Table

    if not isinstance(ref, dict) or "table" not in str(ref.get("_type")) or "path" not in ref:
        raise ValueError(f"not a table ref: {ref!r:.80}; pass a history value whose _type is table-file")
    paths = [p for p in ref.get("previous_increments_paths") or [] if isinstance(p, str)]
    bodies = [_table_body(run_file_path(run_dir, p).read_bytes(), p) for p in [*paths, ref["path"]]]
    return _joined(Table, bodies)


def _table_body(data: bytes, where: str) -> dict[str, Any]:
    try:
        body = _json_decode(data)
    except msgspec.DecodeError as exc:
        try:  # a NaN or an infinity as JSON's NaN, Infinity tokens (W&B's file, and ours: media_json)
            body = json.loads(data)
        except (ValueError, RecursionError):
            raise ValueError(f"table file {where} is damaged ({exc})") from None
    if not isinstance(body, dict):
        raise ValueError(f"table file {where} does not hold columns and data")
    return body


def _joined(table_type: Any, bodies: list[dict[str, Any]]) -> Any:
    """One Table from the bodies of its increments (or the one body of a whole table)."""
    table = table_type.from_json(bodies[-1])
    if len(bodies) > 1:
        table.data = []
        for body in bodies:
            table.data.extend(table_type.from_json(body).data)
    return table


def artifact_table(art: Any, name: str, object_path: Any) -> Any:
    """The Table entry `name` (or `name.table.json`) of a logged artifact, or None as W&B gives.
    An incremental table's artifact holds one entry per increment, `<n>-<ms>.<key>.table.json`:
    any of them (or the key) reads back as every increment in order, as W&B's `get` does."""
    from .table import Table

    files = (art._manifest or {}).get("files", {})
    entry = files.get(name) or files.get(f"{name}.table.json")
    increments = sorted((_increment_order(n), n) for n in files if n.endswith(".table.json"))
    if entry is None and increments and increments[-1][1].split(".", 1)[-1] == f"{name}.table.json":
        entry = files[increments[-1][1]]  # `get(key)` on an incremental table's artifact
    if entry is None or art._store is None:
        return None
    read = lambda e, n: _table_body(object_path(art._store, e["digest"]).read_bytes(),  # noqa: E731
                                    f"{n!r} of artifact {art.name}")
    body = read(entry, name)
    if body.get("log_mode") != "INCREMENTAL":
        return Table.from_json(body)
    return _joined(Table, [read(files[n], n) for _, n in increments])


def _increment_order(entry: str) -> tuple[int, int]:
    """W&B's order of increments: "<n>-<ms>.<key>.table.json" by n, then time; (-1, -1) if not one."""
    head = entry.split(".", 1)[0].split("-")
    try:
        return int(head[0]), int(head[1]) if len(head) > 1 else 0
    except ValueError:
        return -1, -1


class MediaReads:
    """What `logger.Api().run(...)` gains for media: tables, alerts and charts (their files
    come through `run.file(path)`, logger/runfiles.py)."""

    _data: Any

    def load_table(self, key_or_ref: Any, step: int | None = None) -> Any:
        """A logged Table: from a history value, or by key (its last value, or at `step`)."""
        ref = key_or_ref
        if isinstance(key_or_ref, str):
            col = self._data.history.columns.get(key_or_ref)
            if col is None or not len(col):
                raise KeyError(f"no table logged as {key_or_ref!r} in run {self._data.path}")
            steps, values = col.series()
            ref = values[-1] if step is None else dict(zip(steps, values)).get(step)
            if ref is None:
                raise KeyError(f"no table logged as {key_or_ref!r} at step {step}")
        return load_table(self._data.dir, ref)

    @property
    def alerts(self) -> list[dict[str, Any]]:
        """Every alert the run raised, in order: title, text, level, wait_duration, time, suppressed."""
        return [alert_dict(a) for a in self._data.extras.get("alerts", [])]

    @property
    def charts(self) -> dict[str, dict[str, Any]]:
        """`plot.*` charts by key: the history key of their table and W&B's visualize spec."""
        return {k: {"table_key": c.table_key, **c.spec} for k, c in self._data.extras.get("charts", {}).items()}
