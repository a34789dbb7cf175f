"""The caches' temporary files (the reopen cache and the listing index share one write,
logger/index.py write_atomic): one a process left mid-write (killed while saving, or its save
thread ended with the interpreter) is removed by the next save; a live writer's is left alone."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from tui.model import decim_file


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_save_removes_temporaries_whose_writer_is_gone(tmp_path):
    path = tmp_path / "app-v1-index-v2-0123abcd.bin"
    stale = tmp_path / f".{path.name}.{_dead_pid()}.{threading.get_ident()}.tmp"
    live = tmp_path / f".{path.name}.{os.getppid()}.1.tmp"  # a live process's save under way
    other = tmp_path / f".other.bin.{_dead_pid()}.1.tmp"  # not this file's
    for p in (stale, live, other):
        p.write_bytes(b"half a pickle")
    assert decim_file.write(path, decim_file.Index(code="c", root="r", runs={}), [])
    assert path.exists() and not stale.exists()
    assert live.exists() and other.exists()


def test_the_listing_index_shares_the_write_and_its_cleanup(tmp_path, monkeypatch):
    from logger import index

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "runs"
    root.mkdir()
    path = index.cache_file(root)
    assert path is not None
    path.parent.mkdir(parents=True)
    stale = path.with_name(f".{path.name}.{_dead_pid()}.1.tmp")
    stale.write_bytes(b"half an index")
    index.save(root, {}, {})
    assert path.exists() and not stale.exists()
