"""Edits from outside the training script (the TUI, `runwatch tag`/`note`): each one a new,
short editor segment in the run's directory, never a write into another process's file."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from . import events as ev
from .reader import segment_files
from .values import check_tags
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


def _clean_tags(tags: Iterable[str]) -> list[str]:
    return list(check_tags(tags))  # the one tag rule, shared with init and run.tags
