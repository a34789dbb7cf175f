"""Segment files written whole (editors), segment names and starts, and the warning every
writer gives: what the streaming writer (writer.py) and the editors share."""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import warnings
from pathlib import Path

from . import events as ev
from .atomic import create_appending, write_atomic
from .host import boot_id, pid_namespace, process_start_ticks


class RunwatchWarning(UserWarning):
    """Logging went wrong in a way the training run should survive."""


def warn(message: str) -> None:
    """Warn without ever raising: under `-W error` a warning is an exception, and one raised in
    the flusher thread would stop it for good."""
    try:
        warnings.warn(message, RunwatchWarning, stacklevel=3)
    except Exception:  # noqa: BLE001
        if threading.current_thread() is threading.main_thread():
            raise
        say(f"RunwatchWarning: {message}")


def segment_name(role: str) -> str:
    """A name no other writer will pick: time, role, host, pid and random bits."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    tag = role.replace(" ", "")
    return f"{stamp}-{tag}-{os.getpid()}-{os.urandom(3).hex()}{ev.SEGMENT_SUFFIX}"


def segment_start(run_id: str, role: str) -> ev.SegmentStart:
    pid = os.getpid()
    return ev.SegmentStart(
        version=ev.FORMAT_VERSION,
        run_id=run_id,
        role=role,
        host=socket.gethostname(),
        pid=pid,
        proc_start=process_start_ticks(pid),
        boot_id=boot_id(),
        time=time.time(),
        pid_ns=pid_namespace(),
    )


def open_segment(run_dir: Path, run_id: str, role: str, events: list[ev.Event]) -> tuple[Path, int, int]:
    """A new segment for a streaming writer, its header, start and `events` written:
    (path, fd opened for appending, bytes written)."""
    path = run_dir / segment_name(role)
    head = ev.HEADER + b"".join(ev.encode(e) for e in [segment_start(run_id, role), *events])
    # It appears with its start in it: a segment without one has no live writer (liveness.py).
    return path, create_appending(path, head), len(head)


def write_segment(run_dir: Path, run_id: str, role: str, events: list[ev.Event]) -> Path:
    """Write a whole, short segment at once (editors): no thread, fsynced before returning (a
    tag or note the user typed is not to be lost). Atomic (logger/atomic.py): a reader sees all
    of it or none of it, and a write that fails (a full disk, a read-only root) leaves nothing.
    """
    path = run_dir / segment_name(role)
    data = ev.HEADER + ev.frames_from([ev.encode_event(e) for e in [segment_start(run_id, role), *events]])
    write_atomic(path, data, fsync=True)  # a name no other writer picks (segment_name)
    return path


def human_size(size: int) -> str:
    """Bytes as people read them in a message."""
    if size < 1024:
        return f"{size} bytes"
    return f"{size / 1024:.1f} KB" if size < 1 << 20 else f"{size / (1 << 20):.1f} MB"


def say(line: str) -> None:
    """One line on stderr that never raises (stderr closed, a broken pipe): a writer's
    thread must outlive its messages."""
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError, AttributeError):
        pass
