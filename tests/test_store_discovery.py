"""The app's first pass finds segments as every reader does (logger/discover.py): regular
files only, no dot-named temporaries, by name. Its own scandir copy took any `*.rws` entry:
a FIFO, a directory or a hidden file named like a segment."""

from __future__ import annotations

import os
from pathlib import Path

import logger
from logger.reader import segment_files
from tui.model.store import segment_paths


def test_the_first_pass_lists_what_every_reader_lists(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    run = logger.init(project="p", name="a", dir=str(root))
    run.log({"loss": 1.0})
    run.finish()
    (run_dir,) = (root / "p").iterdir()
    os.mkfifo(run_dir / "20990101T000000-fifo.rws")
    (run_dir / "20990101T000001-dir.rws").mkdir()
    (run_dir / ".20990101T000002-hidden.rws").write_bytes(b"")
    (root / ".state" / "x").mkdir(parents=True)
    (root / ".state" / "x" / "20990101T000003-a.rws").write_bytes(b"")
    found = segment_paths(root)
    assert found == segment_files(run_dir)
    assert len(found) == 1  # the run's own segment alone
