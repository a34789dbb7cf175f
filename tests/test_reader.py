"""The reader follows segments by offset: torn tails wait, growth is read once."""

from __future__ import annotations

import os
import time

import logger
from logger import events as ev
from logger.reader import RootReader


def test_a_torn_tail_waits_and_is_not_pending_until_the_file_grows(root):
    run = logger.init(project="p")
    run.log({"a": 1})
    run.finish()
    seg = next(run.run_dir.glob("*.rws"))
    whole = ev.encode(ev.Log(step=1, time=time.time(), values={"a": 2}))
    with open(seg, "ab") as f:
        f.write(whole[:-3])  # a write cut short
    reader = RootReader(root)
    reader.scan()
    data = reader.runs[f"{run.project}/{run.id}"]
    assert data.history.columns["a"].series() == ([0], [1])
    assert reader.pending() == 0  # nothing to read until more bytes come
    assert reader.scan() == []
    with open(seg, "ab") as f:
        f.write(whole[-3:])
    reader.scan()
    assert data.history.columns["a"].series() == ([0, 1], [1, 2])
    assert data.skipped_frames == 0


def test_growth_is_read_once_and_only_growth(root):
    run = logger.init(project="p")
    reader = RootReader(root)
    first = reader.scan()
    assert [u.new for u in first] == [True]
    run.log({"a": 1})
    run._writer.flush()
    (update,) = reader.scan()
    assert [type(e).__name__ for e in update.events] == ["Log"]
    assert reader.scan() == []
    run.finish()
    (update,) = reader.scan()
    assert update.state_changed and update.run.state == "finished"


def test_a_segment_from_a_newer_format_is_refused_with_a_clear_message(root):
    run_dir = root / "p" / "newer"
    run_dir.mkdir(parents=True)
    (run_dir / "x.rws").write_bytes(ev.HEADER_PREFIX + bytes([0, ev.FORMAT_VERSION + 1]) + b"\n")
    reader = RootReader(root)
    reader.scan()
    (error,) = reader.runs["p/newer"].errors
    assert "newer runwatch" in error and "pip install -U runwatch" in error


def test_stray_files_and_foreign_directories_are_ignored(root):
    (root / "2026-01-01_host").mkdir(parents=True)  # TensorBoard's layout
    (root / "2026-01-01_host" / "events.out.tfevents.1").write_bytes(os.urandom(64))
    (root / "notes.txt").write_text("hi")
    (root / "p" / "abc").mkdir(parents=True)
    (root / "p" / "abc" / "stray.log").write_text("x")
    reader = RootReader(root)
    assert reader.scan() == [] and reader.runs == {}


def test_a_relative_root_matches_the_absolute_paths_watchers_report(root, monkeypatch):
    run = logger.init(project="p")
    run.log({"a": 1})
    run.finish()
    monkeypatch.chdir(root.parent)
    reader = RootReader(root.name)  # "runs", relative
    seg = next(run.run_dir.glob("*.rws")).resolve()
    (update,) = reader.read_paths([str(seg)])
    assert update.run.path == f"{run.project}/{run.id}" and update.run.summary["a"] == 1
    link = root.parent / "link"
    link.symlink_to(root)
    via_link = RootReader(link)
    (update,) = via_link.read_paths([str(seg)])  # reported through the resolved path
    assert update.run.dir == link / "p" / run.id


def test_parked_rows_are_compacted_as_they_pile_up(root):
    from logger.history import MAX_PARKED

    run = logger.init(project="p")
    for i in range(MAX_PARKED * 3):
        run.log({"a": i, "b": float(i)})
    run.finish()
    reader = RootReader(root)
    reader.scan()
    history = reader.runs[f"{run.project}/{run.id}"].history
    assert sum(map(len, history._pending.values())) <= MAX_PARKED
    assert history.columns["a"].series()[1][-1] == MAX_PARKED * 3 - 1


def test_a_reader_that_keeps_no_history_holds_only_last_values(root):
    from logger.history import MAX_PARKED

    run = logger.init(project="p")
    for i in range(MAX_PARKED * 3):
        run.log({"a": i, "b": float(i)} if i % 2 else {"a": i})
    run.finish()
    light = RootReader(root, keep_history=False)
    light.scan()
    data = light.runs[f"{run.project}/{run.id}"]
    assert data.step == MAX_PARKED * 3 - 1
    assert {k: len(c) for k, c in data.history.columns.items()} == {"a": 1, "b": 1}
    assert data.history.columns["a"].last_value == MAX_PARKED * 3 - 1
    assert data.history.columns["b"].last_value == float(MAX_PARKED * 3 - 1)  # the last odd step
