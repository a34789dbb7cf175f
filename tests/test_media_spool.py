"""Media files are written off the calling thread (rule 1: log() never waits on the disk), in
order, and every one lands before the run's finish: at finish(), and on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

import logger
from logger.media import spool

_opened: list[tuple[str, str]] = []  # (thread name, path) of files opened for writing
_watching: list[str] = []


def _audit(event: str, args: tuple) -> None:
    if event == "open" and _watching and isinstance(args[0], (str, os.PathLike)):
        path, mode = os.fspath(args[0]), args[1]
        if isinstance(path, str) and _watching[0] in path and isinstance(mode, str) and "w" in mode:
            _opened.append((threading.current_thread().name, path))


sys.addaudithook(_audit)  # audit hooks cannot be removed: this one is inert unless _watching


@pytest.fixture
def media_writes(root: Path):
    _opened.clear()
    _watching[:] = [str(root)]
    yield _opened
    _watching.clear()


def _pixels(path: Path) -> np.ndarray:
    with PILImage.open(path) as img:
        return np.asarray(img.convert("RGB"))


def test_media_files_are_written_by_the_media_thread_and_all_land_by_finish(root: Path, media_writes) -> None:
    logger.init(dir=root, project="p")
    arrays = [np.full((64, 64, 3), i * 10, dtype=np.uint8) for i in range(20)]
    for a in arrays:
        logger.log({"img": logger.Image(a), "t": logger.Table(columns=["v"], data=[[int(a[0, 0, 0])]])})
        a[:] = 255  # the script reuses its buffer at once: what was logged must not change
    logger.finish()
    writers = {name for name, path in media_writes if "/media/" in path}
    assert writers == {"runwatch-media"}, writers
    (run,) = logger.Api(root).runs()
    rows = run.history(pandas=False)
    for i, row in enumerate(rows):
        assert (_pixels(Path(run.file(row["img"]["path"]).path)) == i * 10).all()
        assert run.load_table("t", step=i).data == [[i * 10]]


def test_a_full_media_queue_drops_counts_and_reports(root: Path, monkeypatch, capfd) -> None:
    monkeypatch.setattr(spool, "MAX_PENDING", 10)  # every file is over it
    logger.init(dir=root, project="p")
    with pytest.warns(logger.RunwatchWarning, match="media files are waiting for a disk"):
        logger.log({"img": logger.Image(np.zeros((8, 8), dtype=np.uint8))})
    logger.log({"img": logger.Image(np.ones((8, 8), dtype=np.uint8))})
    logger.finish()
    assert "LOST 2 media files" in capfd.readouterr().err
    (run,) = logger.Api(root).runs()
    assert [r["img"]["_type"] for r in run.history(pandas=False)] == ["image-file"] * 2


def test_on_sigterm_every_logged_image_is_on_disk_and_none_was_written_by_the_script_s_thread(root: Path) -> None:
    script = textwrap.dedent(f"""
        import os, signal, sys, threading
        import numpy as np
        import logger
        opened = []
        def hook(event, args):
            if event == "open" and isinstance(args[0], str) and "/media/" in args[0] and "w" in str(args[1]):
                opened.append(threading.current_thread().name)
        sys.addaudithook(hook)
        logger.init(dir={str(root)!r}, project="p")
        for i in range(200):
            logger.log({{"img": logger.Image(np.full((64, 64), i, dtype=np.uint8))}})
        def report(signum, frame):
            print("writers", sorted(set(opened)), flush=True)
            sys.exit(143)
        signal.signal(signal.SIGTERM, report)
        os.kill(os.getpid(), signal.SIGTERM)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).parent.parent)
    assert out.returncode == 128 + signal.SIGTERM, out.stderr
    assert "MainThread" not in out.stdout, out.stdout
    (run,) = logger.Api(root).runs()
    assert run.state == "killed"
    rows = run.history(pandas=False)
    assert len(rows) == 200
    for i, row in enumerate(rows):
        assert (_pixels(Path(run.file(row["img"]["path"]).path)) == i).all()
