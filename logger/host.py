"""Facts about this process and machine that tell a reader whether a writer is still alive."""

from __future__ import annotations

import os
from functools import lru_cache


def _stat(pid: int) -> tuple[bytes, int]:
    """(state letter, start ticks) from /proc/PID/stat; (b"", 0) where there is none."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return b"", 0
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = stat[stat.rfind(b")") + 2 :].split()
    try:
        return fields[0], int(fields[19])  # fields 3 and 22 overall: state, starttime
    except (IndexError, ValueError):
        return b"", 0


def process_start_ticks(pid: int) -> int:
    """When `pid` started, in clock ticks since boot (Linux); 0 where that cannot be known.

    A pid is reused after its process exits; the pair (pid, start ticks) is not.
    """
    return _stat(pid)[1]


@lru_cache(maxsize=1)
def boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return ""


@lru_cache(maxsize=1)
def pid_namespace() -> str:
    """This process's PID namespace ("pid:[4026531836]"); "" where that cannot be known."""
    return pid_namespace_of("self")


def pid_namespace_of(pid: int | str) -> str:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except (OSError, ValueError):
        return ""


def process_alive(pid: int, start_ticks: int) -> bool | None:
    """True/False when it can be told on this machine; None when it cannot."""
    if pid <= 0:
        return False
    if start_ticks and os.path.exists("/proc/self/stat"):
        state, ticks = _stat(pid)
        return ticks == start_ticks and state not in (b"Z", b"X")  # a zombie has exited
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return None
    return True
