"""The one atomic file write (logger/atomic.py) and the places that use it: a writer killed
mid-write leaves the old file whole and its temporary is removed by the next write; modes;
fsync where asked; a write that fails leaves nothing."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from logger import atomic

REPO = Path(__file__).resolve().parents[1]


def _temps(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# Scaffolding inside the writer, not a stand-in for what is tested: its data is a generator
# that says "ready" after the first part and then waits to be killed, mid-write.
KILLED_WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from logger.atomic import write_atomic

    def parts():
        yield b"new, first half "
        print("ready", flush=True)
        time.sleep(60)
        yield b"second half"

    write_atomic(Path(sys.argv[1]), parts(), fsync=True)
""")


def test_a_writer_killed_mid_write_leaves_the_old_file_whole_and_the_next_write_no_temporary(
        tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    atomic.write_atomic(path, b"old, whole")
    with subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path)], cwd=REPO,
                          stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        os.kill(proc.pid, signal.SIGKILL)
    assert path.read_bytes() == b"old, whole"
    assert len(_temps(tmp_path)) == 1  # what the killed writer left
    atomic.write_atomic(tmp_path / "another-file", b"x")  # any write into the directory
    assert _temps(tmp_path) == []
    atomic.write_atomic(path, b"newer")
    assert path.read_bytes() == b"newer" and _temps(tmp_path) == []


def test_a_live_writers_temporary_is_left_alone_and_a_foreign_one_only_once_it_is_old(
        tmp_path: Path) -> None:
    path = tmp_path / "f"
    live = tmp_path / f".f.{os.getppid()}-{atomic.owner()}.1.tmp"  # a live process's write
    foreign = tmp_path / f".f.{_dead_pid()}-0badf00d.1.tmp"  # from another machine: pid unknown
    stale = tmp_path / f".f.{_dead_pid()}-0badf00e.1.tmp"
    for p in (live, foreign, stale):
        p.write_bytes(b"half")
    old = time.time() - atomic.FOREIGN_AGE - 60
    os.utime(stale, (old, old))
    atomic.write_atomic(path, b"x")
    assert live.exists() and foreign.exists() and not stale.exists()


def test_an_older_versions_temporary_is_removed_only_by_a_write_of_its_own_name(
        tmp_path: Path) -> None:
    mine = tmp_path / f".a.bin.{_dead_pid()}.{threading.get_ident()}.tmp"  # no owner in the name
    other = tmp_path / f".b.bin.{_dead_pid()}.1.tmp"  # another name's: maybe not ours at all
    for p in (mine, other):
        p.write_bytes(b"half")
    atomic.write_atomic(tmp_path / "a.bin", b"x")
    assert not mine.exists() and other.exists()


def test_modes_of_new_files_and_of_every_directory_made(
        tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        private = tmp_path / "cache" / "deep" / "index.bin"
        atomic.write_atomic(private, b"x", mode=0o600, dir_mode=0o700)
        shared = tmp_path / "run" / "file.txt"
        atomic.write_atomic(shared, b"y")
    finally:
        os.umask(old)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(private.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700
    assert stat.S_IMODE(shared.stat().st_mode) == 0o644  # 0666 less the umask, as open() makes


def test_a_symlink_planted_at_the_temporary_name_is_not_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.write_bytes(b"keep me")
    run = tmp_path / "run"
    run.mkdir()
    path = run / "file"
    os.symlink(outside, atomic.temp_name(path))
    atomic.write_atomic(path, b"new")
    assert outside.read_bytes() == b"keep me" and path.read_bytes() == b"new"
    assert not path.is_symlink()


def test_fsync_is_called_when_asked_and_only_then(tmp_path: Path, monkeypatch) -> None:
    synced: list[int] = []
    real = os.fsync

    def counting(fd: int) -> None:
        synced.append(os.fstat(fd).st_size)
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    atomic.write_atomic(tmp_path / "cache", b"12345")
    assert synced == []
    atomic.write_atomic(tmp_path / "durable", b"12345", fsync=True)
    assert synced[0] == 5  # the file's data, before the rename
    assert len(synced) == 2  # then the directory, so that the rename itself is durable
    synced.clear()
    atomic.copy_atomic(tmp_path / "durable", tmp_path / "copy", fsync=True)
    assert synced[0] == 5 and (tmp_path / "copy").read_bytes() == b"12345"


def test_a_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"old")

    def parts():
        yield b"half"
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        atomic.write_atomic(path, parts())
    assert path.read_bytes() == b"old" and _temps(tmp_path) == []


def test_replace_false_never_overwrites_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "v0.json"
    atomic.write_atomic(path, b"first", replace=False)
    with pytest.raises(FileExistsError):
        atomic.write_atomic(path, b"second", replace=False)
    assert path.read_bytes() == b"first" and _temps(tmp_path) == []


def test_a_large_copy_is_whole(tmp_path: Path) -> None:
    src = tmp_path / "ckpt.bin"
    data = os.urandom(3 << 20) + b"end"
    src.write_bytes(data)
    atomic.copy_atomic(src, tmp_path / "out" / "ckpt.bin")
    assert (tmp_path / "out" / "ckpt.bin").read_bytes() == data


# -- the places that write through it --------------------------------------------------------
def _dead_temp_of(path: Path) -> Path:
    """A temporary of `path` as a killed writer of an older version left it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{_dead_pid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(b"half")
    return tmp


def test_media_artifacts_sweeps_and_editors_write_through_it(tmp_path: Path, monkeypatch) -> None:
    from logger import segfile
    from logger.artifact_store import _set_alias
    from logger.media.spool import store_file
    from logger.sweeps.store import Sweep

    media = tmp_path / "run" / "media" / "img.png"
    stale = [_dead_temp_of(media)]
    store_file(media, b"png")
    alias = tmp_path / "art" / "aliases" / "best"
    stale.append(_dead_temp_of(alias))
    _set_alias(tmp_path / "art", "best", 3)
    assert alias.read_text() == "v3\n"
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd))[1])
    sweep = Sweep.create(tmp_path / "root", "p", {"method": "grid", "parameters": {"x": {"values": [1]}}})
    assert json.loads((sweep.dir / "sweep.json").read_text())["project"] == "p" and synced
    synced.clear()
    seg = segfile.write_segment(tmp_path / "run", "abc", "editor", [])
    assert seg.stat().st_size > 0 and synced  # a tag or note typed by the user is synced
    assert [p for p in stale if p.exists()] == []
    assert _temps(tmp_path / "run") == [] and _temps(tmp_path / "root" / "p" / "sweeps" / sweep.id) == []
