"""Edits from outside the training script (the TUI, `runwatch tag`/`note`): each one a new,
short editor segment in the run's directory, never a write into another process's file."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from . import events as ev
from .reader import segment_files
from .values import check_tags, convert, flatten_into
from .writer import write_segment


class EditError(Exception):
    """An edit could not be saved; the message says which run and why."""


def _save(run_dir: Path, run_id: str, event: ev.Event, what: str) -> Path:
    if not run_dir.is_dir():
        raise EditError(f"cannot save {what}: run directory {run_dir} does not exist")
    try:
        return write_segment(run_dir, run_id, "editor", [_seen(run_dir), event])
    except OSError as exc:
        raise EditError(
            f"cannot save {what} for run {run_id}: {run_dir} is not writable "
            f"({exc.strerror or exc}); nothing was changed"
        ) from exc


def _seen(run_dir: Path) -> ev.EditSeen:
    """How far every segment of the run reached as the edit was made: readers order the edit
    after those bytes, so an editor whose clock is behind still edits the run it read."""
    sizes: dict[str, int] = {}
    for path in segment_files(run_dir):
        try:
            sizes[path.name] = path.stat().st_size
        except OSError:
            continue
    return ev.EditSeen(segments=sizes, time=time.time())


def edit_tags(
    run_dir: Path, run_id: str, add: Iterable[str] = (), remove: Iterable[str] = ()
) -> Path:
    """Add and remove tags. Deltas, not a whole set: two editors adding tags lose neither."""
    add_l = _clean_tags(add)
    remove_l = _clean_tags(remove)
    event = ev.SetTags(tags=None, add=add_l, remove=remove_l, time=time.time())
    return _save(run_dir, run_id, event, "tags")


def set_tags(run_dir: Path, run_id: str, old: Iterable[str], new: Iterable[str]) -> Path:
    """Save the change from `old` to `new` as a delta (what a tag editor shows and returns)."""
    old_l, new_l = _clean_tags(old), _clean_tags(new)
    add = [t for t in new_l if t not in old_l]
    remove = [t for t in old_l if t not in new_l]
    return edit_tags(run_dir, run_id, add, remove)


def edit_notes(run_dir: Path, run_id: str, notes: str) -> Path:
    if not isinstance(notes, str):
        raise TypeError(f"notes must be a str, not {type(notes).__name__}")
    return _save(run_dir, run_id, ev.SetNotes(notes=notes, time=time.time()), "notes")


def edit_name(run_dir: Path, run_id: str, name: str) -> Path:
    if not isinstance(name, str) or not name.strip():
        raise ValueError("a run name must be a non-empty string")
    return _save(run_dir, run_id, ev.SetName(name=name.strip(), time=time.time()), "name")


def edit_config(run_dir: Path, run_id: str, values: dict[str, Any]) -> Path:
    """Set config keys (nested dicts merge key by key, as `run.config.update` does)."""
    return _save(run_dir, run_id, ev.ConfigUpdate(values=convert(values), time=time.time()), "config")


def edit_summary(run_dir: Path, run_id: str, values: dict[str, Any], removed: Iterable[str] = ()) -> Path:
    """Set summary keys and remove others (flat "a.b" names); a later logged value wins again."""
    event = ev.SummaryUpdate(values=convert(values), removed=list(removed), time=time.time())
    return _save(run_dir, run_id, event, "summary")


# -- an Api run's config and summary, edited in place and saved by run.update() ----------------
class ApiSummary(dict[str, Any]):
    """An Api run's summary: a dict, with W&B's `_json_dict` (HTTPSummary's plain dict), which
    W&B's own "export runs to CSV" example reads: `run.summary._json_dict`."""

    @property
    def _json_dict(self) -> dict[str, Any]:
        return self  # the same dict, as W&B's: an edit through it is saved by update()


def editable(run: Any, field: str, current: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The run's `field` ("config" or "summary") as a dict to edit; update() saves the change."""
    copies = run.__dict__.setdefault("_field_edits", {})
    if field not in copies:
        base = ApiSummary(current()) if field == "summary" else current()
        copies[field] = (copy.deepcopy(base), copy.deepcopy(base))
    return copies[field][1]


def save_field_edits(run: Any, run_dir: Path, run_id: str) -> None:
    """Write what changed in the run's edited config and summary, one editor segment each."""
    copies = run.__dict__.get("_field_edits", {})
    for field, (old, new) in copies.items():
        if field == "config":
            values = _config_delta(old, new, "")
            if values:
                edit_config(run_dir, run_id, values)
        else:
            old_flat, new_flat = _flat(old), _flat(new)
            removed = [k for k in old_flat if k not in new_flat]
            changed = {k.split(".", 1)[0] for k, v in new_flat.items() if k not in old_flat or not _same(old_flat[k], v)}
            if changed or removed:
                edit_summary(run_dir, run_id, {k: new[k] for k in new if k in changed}, removed)
        copies[field] = (copy.deepcopy(new), new)


def _config_delta(old: dict[str, Any], new: dict[str, Any], prefix: str) -> dict[str, Any]:
    for key in old:
        if key not in new:
            raise EditError(f"config key {prefix + key!r} was deleted: config keys, once set, stay; "
                            "set it to None instead")
    out: dict[str, Any] = {}
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, dict) and isinstance(before, dict):
            nested = _config_delta(before, value, f"{prefix}{key}.")
            if nested:
                out[key] = nested
        elif key not in old or not _same(before, value):
            out[key] = value
    return out


def _same(a: Any, b: Any) -> bool:
    return a == b or (a != a and b != b)  # NaN is NaN: a summary's nan is not an edit


def _flat(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    flatten_into(out, values, "", {})
    return out


def _clean_tags(tags: Iterable[str]) -> list[str]:
    return list(check_tags(tags))  # the one tag rule, shared with init and run.tags
