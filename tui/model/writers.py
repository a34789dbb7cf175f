"""Stopping a running run: which processes write it, whether each one is ours to signal, and
SIGTERM to those that are.

A segment records its writer's host, boot, PID namespace, pid and the pid's start time
(logger/events.py SegmentStart). A pid is reused once its process exits, so a signal goes
only to a process on this host, in this boot and PID namespace, whose start time is still
the one the writer recorded; on Linux the process is pinned with a pidfd before that check,
so it cannot exit and hand its pid to another process between the check and the signal.
"""

from __future__ import annotations

import os
import signal
import socket
from dataclasses import dataclass
from typing import Any

from logger.host import boot_id, pid_namespace, process_start_ticks
from logger.textsafe import one_line

START_SLACK = 2.0  # seconds: a process created this long after its segment began is not its writer


@dataclass(frozen=True)
class Writer:
    """One live (unfinished) script segment's writer."""

    role: str
    host: str
    pid: int
    proc_start: int  # clock ticks since boot (Linux); 0 where unknown
    boot_id: str
    pid_ns: str
    started: float  # wall time the segment began


def live_writers(run: Any) -> list[Writer]:
    """The writers of `run` (a RunData; hold the store's lock) that have not finished."""
    out = []
    for seg in run.segments.values():
        start = seg.start
        if start is None or seg.finish is not None or start.role == "editor":
            continue
        out.append(Writer(start.role, start.host, start.pid, start.proc_start, start.boot_id,
                          getattr(start, "pid_ns", ""), start.time))
    return out


def belongs(writer: Writer) -> bool:
    """Whether `writer.pid` is still the writer's process: same start ticks (Linux), else a
    process created no later than the segment began (psutil), and not a zombie."""
    pid = writer.pid
    if writer.proc_start and os.path.exists("/proc/self/stat"):
        return process_start_ticks(pid) == writer.proc_start and _running(pid)
    try:
        import psutil  # type: ignore[import-untyped, unused-ignore]

        proc = psutil.Process(pid)
        return proc.create_time() <= writer.started + START_SLACK and \
            proc.status() != psutil.STATUS_ZOMBIE
    except Exception:  # noqa: BLE001 - gone, no permission, or no psutil: not provably ours
        return False


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    fields = stat[stat.rfind(b")") + 2 :].split()
    return bool(fields) and fields[0] not in (b"Z", b"X")


def refusal(writer: Writer) -> str | None:
    """Why `writer` cannot be stopped from here, or None when it can."""
    here = socket.gethostname()
    if writer.host != here:
        return (f"its writer (pid {writer.pid}) runs on host {one_line(writer.host)}, not on "
                f"{one_line(here)}: stop it there")
    if writer.boot_id and writer.boot_id != boot_id():
        return "its writer ran before this machine last booted: it is gone"
    if writer.pid_ns and writer.pid_ns != pid_namespace():
        return (f"its writer (pid {writer.pid}) runs in another PID namespace (a container): "
                "stop it from inside")
    if writer.pid <= 0:
        return "its writer recorded no pid"
    if not belongs(writer):
        return (f"pid {writer.pid} is no longer its writer (the writer exited; the pid may "
                "belong to another process now)")
    return None


def terminate(writer: Writer) -> None:
    """SIGTERM to `writer`, checked once more (and, on Linux, pinned by a pidfd first).
    Raises ProcessLookupError, PermissionError or OSError with a reason."""
    reason = refusal(writer)
    if reason is not None:
        raise ProcessLookupError(reason)
    pidfd_open = getattr(os, "pidfd_open", None)
    send = getattr(signal, "pidfd_send_signal", None)
    if pidfd_open is None or send is None:
        os.kill(writer.pid, signal.SIGTERM)
        return
    try:
        fd = pidfd_open(writer.pid)
    except OSError as exc:
        if exc.errno == 38:  # ENOSYS: a kernel before 5.3
            os.kill(writer.pid, signal.SIGTERM)
            return
        raise
    try:
        if not belongs(writer):  # the pid changed hands before the pidfd pinned it
            raise ProcessLookupError(f"pid {writer.pid} is no longer its writer")
        send(fd, signal.SIGTERM)
    finally:
        os.close(fd)
