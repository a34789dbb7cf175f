"""Edits apply to the run the editor read, whatever the editor's clock says."""

from __future__ import annotations

import time

import pytest

import logger
from logger import Api
from logger.edit import edit_name, edit_notes, edit_tags, set_tags
from logger.reader import RootReader

YEAR = 365 * 86400.0


def _clock(monkeypatch: pytest.MonkeyPatch, offset: float) -> None:
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + offset)


def _read(root, run):
    reader = RootReader(root)
    reader.scan()
    return reader.runs[f"{run.project}/{run.id}"]


def test_an_edit_from_a_clock_behind_the_run_is_kept(root, monkeypatch):
    run = logger.init(project="p", name="orig", tags=["a"], notes="n0")
    run.log({"loss": 1.0})
    run.finish()
    with monkeypatch.context() as m:
        _clock(m, -YEAR)  # a laptop a year behind the GPU box
        edit_tags(run.run_dir, run.id, add=["laptop"])
        edit_notes(run.run_dir, run.id, "from the laptop")
        edit_name(run.run_dir, run.id, "renamed")
    data = _read(root, run)
    assert (data.tags, data.notes, data.name) == (("a", "laptop"), "from the laptop", "renamed")
    # A second edit, the laptop now a year ahead, removes the tag the first one added.
    with monkeypatch.context() as m:
        _clock(m, +YEAR)
        set_tags(run.run_dir, run.id, ["a", "laptop"], ["a"])
    with monkeypatch.context() as m:
        _clock(m, -2 * YEAR)  # and a third, further behind than ever, adds one more
        edit_tags(run.run_dir, run.id, add=["late"])
    assert _read(root, run).tags == ("a", "late")
    assert Api(root).run(run.path).tags == ["a", "late"]


def test_what_the_script_does_after_an_edit_comes_after_it(root, monkeypatch):
    """An editor whose clock is ahead edits a live run; the script then replaces its tags.
    The replacement was not seen by the edit, so it wins."""
    run = logger.init(project="p", tags=["a"])
    run.log({"loss": 1.0})
    deadline = time.monotonic() + 10
    while _read(root, run).start is None:  # the edit reads the run as it is on disk
        assert time.monotonic() < deadline
        time.sleep(0.05)
    with monkeypatch.context() as m:
        _clock(m, +YEAR)
        edit_tags(run.run_dir, run.id, add=["x"])
    assert _read(root, run).tags == ("a", "x")
    for step in range(200):
        run.log({"loss": float(step)})
    run.tags = ["b", "c"]
    run.finish()
    assert _read(root, run).tags == ("b", "c")
