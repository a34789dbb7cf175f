"""The app's remembered view of one root: columns, sort, grouping, filter, chart settings,
layout and the pinned baseline, kept in the user's state directory and restored next start.

DESIGN.md section 10: derived state lives in `$XDG_STATE_HOME/runwatch/` (else
`~/.local/state/runwatch/`), one file per root keyed by the root's resolved path, never inside
the root (which may be read-only, or shared by many users over NFS). Saving is atomic (a
temporary file renamed over the old one); loading never raises: a damaged, foreign or newer
file costs the remembered view, field by field where it can, never the app.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from logger.atomic import write_atomic

VERSION = 1  # of the file; a newer one is ignored (an older app must not misread it)
MAX_BYTES = 1 << 20  # a state file is a few hundred bytes: a bigger one is not ours
# ChartOptions fields that describe the screen, not a choice the user made.
CHART_RUNTIME_FIELDS = frozenset({"columns", "group"})


@dataclass
class ViewState:
    """What the user chose last time. `None`/empty means "the app's default"."""

    sort: tuple[str, str] | None = None  # a ColumnKey as (kind, name)
    sort_reverse: bool | None = None
    group_keys: tuple[str, ...] = ()
    filter: str = ""
    metrics: tuple[str, ...] | None = None  # None: the columns follow what runs log
    baseline: str | None = None  # the pinned run's path ("project/id")
    chart: dict[str, Any] = field(default_factory=dict)  # ChartOptions fields the user set
    layout: dict[str, Any] = field(default_factory=dict)  # the main screen's panes and sizes


def state_dir() -> Path:
    """`$XDG_STATE_HOME/runwatch`, else `~/.local/state/runwatch` (XDG Base Directory spec:
    a relative XDG_STATE_HOME is invalid and ignored)."""
    base = os.environ.get("XDG_STATE_HOME", "")
    home = Path(base) if base and os.path.isabs(base) else Path.home() / ".local" / "state"
    return home / "runwatch"


def state_path(root: Path) -> Path:
    """The file that remembers `root`'s view: named by a hash of its resolved path, so a
    root reached by two spellings (./runs, a symlink) shares one view."""
    resolved = str(Path(root).expanduser().resolve())
    digest = hashlib.sha256(resolved.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return state_dir() / "views" / f"{digest}.json"


def _str_tuple(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def _scalars(value: Any) -> dict[str, Any]:
    """A JSON object of plain values (str, number, bool, null, lists of those), else {}."""
    if not isinstance(value, dict):
        return {}
    plain = (str, int, float, bool, type(None))
    return {k: v for k, v in value.items() if isinstance(k, str) and (
        isinstance(v, plain) or (isinstance(v, list) and all(isinstance(x, plain) for x in v)))}


def _decode(data: Any) -> ViewState:
    """Each field taken when it has the right shape; a wrong one is left at its default."""
    state = ViewState()
    if not isinstance(data, dict):
        return state
    sort = data.get("sort")
    if isinstance(sort, list) and len(sort) == 2 and all(isinstance(s, str) for s in sort) \
            and sort[0] in ("field", "config", "metric"):
        state.sort = (sort[0], sort[1])
    if isinstance(data.get("sort_reverse"), bool):
        state.sort_reverse = data["sort_reverse"]
    state.group_keys = _str_tuple(data.get("group_keys")) or ()
    if isinstance(data.get("filter"), str):
        state.filter = data["filter"]
    state.metrics = _str_tuple(data.get("metrics"))
    if isinstance(data.get("baseline"), str):
        state.baseline = data["baseline"]
    state.chart = _scalars(data.get("chart"))
    state.layout = _scalars(data.get("layout"))
    return state


def load(root: Path) -> ViewState:
    """The view remembered for `root`, or the defaults (no file, or one that is damaged,
    too big, from a newer runwatch or for another root)."""
    path = state_path(root)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError:
        return ViewState()
    if len(raw) > MAX_BYTES:
        return ViewState()
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return ViewState()
    if not isinstance(doc, dict) or doc.get("version") != VERSION:
        return ViewState()
    if doc.get("root") != str(Path(root).expanduser().resolve()):
        return ViewState()  # a hash collision, or a file copied from elsewhere
    return _decode(doc.get("view"))


def save(root: Path, state: ViewState) -> Path:
    """Write `state` for `root` atomically (logger/atomic.py), fsynced: what the user arranged
    is not rebuilt from the runs, and it is written only when changed. Raises OSError."""
    path = state_path(root)
    doc = {"version": VERSION, "root": str(Path(root).expanduser().resolve()),
           "view": dataclasses.asdict(state)}
    data = json.dumps(doc, indent=1, ensure_ascii=True, allow_nan=False).encode()
    write_atomic(path, data, fsync=True, mode=0o600, dir_mode=0o700)
    return path


def reset(root: Path) -> bool:
    """Forget `root`'s view. True when there was one."""
    try:
        state_path(root).unlink()
    except FileNotFoundError:
        return False
    return True


def chart_state(opts: Any) -> dict[str, Any]:
    """The fields of a ChartOptions (tui/model/series.py) worth remembering: what the user
    chose (smoothing, log y, x axis, band, metrics...), not the screen's size or mode."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(opts):
        if f.name in CHART_RUNTIME_FIELDS:
            continue
        value = getattr(opts, f.name)
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return _scalars(out)


def apply_chart(opts: Any, remembered: dict[str, Any], metrics: list[str] | None = None,
                most: int | None = None) -> Any:
    """`opts` with the remembered fields that it has and whose type matches (a field a newer
    or older runwatch added, or a damaged value, is left as it is). Remembered metrics are
    kept only where `metrics` (what the runs log) has them, at most `most` of them."""
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(opts):
        if f.name in CHART_RUNTIME_FIELDS or f.name not in remembered:
            continue
        current, value = getattr(opts, f.name), remembered[f.name]
        if isinstance(current, tuple) and isinstance(value, list):
            value = tuple(value)
        if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not type(current) or (
                isinstance(value, tuple) and not all(isinstance(v, str) for v in value)):
            continue
        if f.name == "metrics":
            value = tuple(m for m in value if metrics is None or m in metrics)[:most]
            if not value:
                continue
        changes[f.name] = value
    return dataclasses.replace(opts, **changes) if changes else opts
