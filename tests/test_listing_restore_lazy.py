"""Reopening a cached root restores each unchanged run's listing without replaying its events
(logger/runrestore.py, logger/index_scan.py), and whatever a reader asks afterwards (artifacts,
alerts, per-key stats, new edits, a pickle) comes out as a reader without the cache gives it."""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

import pytest

import logger
from logger import index
from logger.edit import edit_tags
from logger.reader import RootReader
from logger.rundata import RunData


def _make(root: Path) -> None:
    run = logger.init(project="p", id="a", name="first", dir=str(root), config={"lr": 0.1, "opt": {"b": [1, 2]}},
                      tags=["x"], group="g")
    for i in range(50):
        run.log({"loss": 1.0 / (i + 1), "acc": i * 0.5})
    run.alert(title="slow", text="loss is flat")
    run.summary["best"] = 7
    run.finish()
    resumed = logger.init(project="p", id="a", dir=str(root), resume="must")
    resumed.log({"loss": 0.01, "acc": 99.0})
    resumed.finish()
    other = logger.init(project="p", id="b", dir=str(root))
    other.define_metric("x", summary="min,max")
    other.log({"x": 1})
    other.log({"x": -1})
    other.finish()


def _view(reader: RootReader) -> str:
    return repr({k: (r.state, r.summary_flat(), r.config, r.tags, r.name, r.notes, r.step, r.rows,
                     r.created_at, r.state == "running" or r.runtime, r.exit_code, sorted(r.segments), r.numeric_keys(),
                     r.extras.get("alerts"), r.rewritten, r.start)
                 for k, r in sorted(reader.runs.items())})


def _listed(reader: RootReader) -> str:
    """What a listing shows of each run."""
    return repr({k: (r.state, r.summary_flat(), r.config, r.tags, r.name, r.notes, r.step, r.rows,
                     r.created_at, r.runtime, r.exit_code, r.group)
                 for k, r in sorted(reader.runs.items())})


def _read(root: Path, paths: list[Path] | None = None) -> RootReader:
    reader = RootReader(root, meta=True)
    reader.scan()
    if paths:
        reader.read_paths(paths)
    return reader


def _cold(root: Path, monkeypatch: pytest.MonkeyPatch, paths: list[Path] | None = None) -> str:
    with monkeypatch.context() as m:
        m.setenv("RUNWATCH_CACHE", "0")
        return _view(_read(root, paths))


def _settle(root: Path) -> None:
    """Run directories last changed a while ago, as a root reopened later finds them."""
    old = time.time() - 60
    for run_dir in root.glob("*/*"):
        os.utime(run_dir, (old, old))


def test_a_second_open_replays_no_event_until_a_reader_needs_more(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    _make(root)
    _settle(root)
    cold = _cold(root, monkeypatch)
    assert _view(_read(root)) == cold  # writes the cache
    real_apply = RunData.apply

    def no_apply(*a: object) -> None:
        raise AssertionError("an event was applied again")

    monkeypatch.setattr(RunData, "apply", no_apply)
    reader = _read(root)
    listed = _listed(reader)
    monkeypatch.setattr(RunData, "apply", real_apply)
    with monkeypatch.context() as m:
        m.setenv("RUNWATCH_CACHE", "0")
        assert listed == _listed(_read(root))
    assert _view(reader) == cold  # alerts, per-key stats, the start: replayed when asked
    blob = pickle.dumps(next(r for r in _read(root).runs.values()))  # the app's reopen cache
    assert b"msgspec" not in blob and b"Restored" not in blob
    edit_tags(root / "p" / "a", "a", add=["later"])  # an edit made after the cache was written
    seen = _read(root, [root / "p" / "a"])
    assert "later" in seen.runs["p/a"].tags
    assert _view(seen) == _cold(root, monkeypatch, [root / "p" / "a"])


def test_a_cached_run_keeps_its_rewritten_steps(tmp_path, monkeypatch):
    """A segment read whole (no writer snapshot: its writer has not finished) counts the rows
    logged at a step already logged; the cache gives the same count back."""
    root = tmp_path / "runs"
    run = logger.init(project="p", id="r", dir=str(root))
    run.log({"a": 1.0}, step=5)
    with pytest.warns(logger.RunwatchWarning, match="before the current step"):
        run.log({"a": 2.0}, step=3)
    run.log({"a": 3.0}, step=4)
    run._writer.flush()
    with monkeypatch.context() as m:
        m.setenv("RUNWATCH_CACHE", "0")
        cold = _read(root).runs["p/r"].rewritten
    assert cold > 0
    assert _read(root).runs["p/r"].rewritten == cold  # writes the cache
    assert _read(root).runs["p/r"].rewritten == cold  # from the cache
    run.finish()


def test_a_forged_entry_detail_costs_a_read_not_a_wrong_answer(tmp_path, monkeypatch):
    """An entry whose detail does not decode (a forged file under this code's stamp) is read
    again from its segment when a reader needs its stats or events."""
    root = tmp_path / "runs"
    _make(root)
    live = logger.init(project="p", id="c", dir=str(root))
    live.log({"loss": 1.0})
    live._writer.flush()
    _read(root)
    cached = index.load(root)
    for entry in cached.entries.values():
        entry.detail = index.msgspec.Raw(index._encoder.encode(["not", "a", "detail"]))
    index.save(root, cached.entries, cached.runs)
    for i in range(3):  # the live run's segment grows past what the forged entry covers
        live.log({"loss": 0.5 - i, "acc": float(i)})
    live._writer.flush()
    assert _view(_read(root)) == _cold(root, monkeypatch)
    live.finish()


def test_a_settled_run_directory_is_not_read_again(tmp_path, monkeypatch):
    """A run directory unchanged since its listing was made is not listed again; one that
    changed (a new segment) is, and shows what changed."""
    root = tmp_path / "runs"
    _make(root)
    _settle(root)
    _read(root)  # writes the cache
    listed: list[str] = []
    real = os.scandir
    monkeypatch.setattr(os, "scandir", lambda p=".": (listed.append(os.fspath(p)), real(p))[1])
    before = _view(_read(root))
    assert not [p for p in listed if Path(p).parent.parent == root]  # no run directory read
    monkeypatch.setattr(os, "scandir", real)
    assert before == _cold(root, monkeypatch)
    edit_tags(root / "p" / "b", "b", add=["new"])  # a new segment: the directory changed
    after = _read(root)
    assert "new" in after.runs["p/b"].tags
    assert _view(after) == _cold(root, monkeypatch)
