"""A listing's times are those of a whole read: a run read from its writer's snapshot (meta
mode) or restored from the index cache has the same created, updated and finished times and
runtime. Both used to take the update time before the snapshot's time was known: meta mode
gave the segment start's time, a cached restore 0.0 (the epoch) — `tail --since` and the
app's "updated" column read it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import logger
from logger.reader import RootReader


def _times(root: Path, meta: bool) -> dict[str, tuple[float, ...]]:
    reader = RootReader(root, meta=meta)
    reader.scan()
    while reader.pending():
        reader.scan()
    return {k: (r.created_at, r.updated_at, r.finished_at, r.runtime) for k, r in sorted(reader.runs.items())}


def test_a_listing_has_the_times_of_a_whole_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "runs"
    for name in ("a", "b"):
        run = logger.init(project="p", name=name, dir=str(root))
        for step in range(400):
            run.log({"loss": 1 / (step + 1)})
            if step == 200:
                time.sleep(0.25)  # rows later than the start, and than the snapshot before them
        run.finish()
    old = time.time() - 60  # settled directories: the third open takes the directory shortcut
    for run_dir in root.glob("*/*"):
        os.utime(run_dir, (old, old))
    whole = _times(root, meta=False)
    assert all(updated > created for created, updated, *_ in whole.values())
    with monkeypatch.context() as m:
        m.setenv("RUNWATCH_CACHE", "0")
        assert _times(root, meta=True) == whole  # from the writers' snapshots
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for _ in range(3):  # the cache written, then restored, then restored by the shortcut
        assert _times(root, meta=True) == whole
