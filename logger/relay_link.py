"""This process's end of the console relay (logger/console_relay.py, started for
logger/redirect.py): spawning it with its fds in place, the store pipe its frames come back
on, the control pipe a sync is asked on, and its pid.

The relay is not the script's child: the spawned process forks it and exits, and is reaped in
init() (10-30 ms, a Python start), so the script's os.wait() and waitpid(-1) see its own
children only. Where the script is itself a subreaper (PR_SET_CHILD_SUBREAPER, or PID 1 of a
container), orphans are given to it, the relay among them: there it is the script's child still.
"""

from __future__ import annotations

import os
import select
import signal
import struct
import sys
import threading
import time
from typing import Any

try:
    import fcntl
except ImportError:  # not POSIX: no relay (redirect.py's "wrap" works there)
    fcntl = None  # type: ignore[assignment]

RELAY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "console_relay.py")
HEADER = struct.Struct(">cI")  # the relay's frames: kind, length (see console_relay.py)
START_TIMEOUT = 10.0  # seconds init waits for the relay to start (a Python start: 10-30 ms)
# What a terminal, tmux, SLURM or a launcher sends the script must not end the relay first.
BLOCKED = {getattr(signal, n) for n in ("SIGINT", "SIGQUIT", "SIGTSTP", "SIGHUP", "SIGTERM")
           if hasattr(signal, n)}


class Link:
    """This process's end of a running relay: the store pipe it reads frames from, the control
    pipe it asks for a sync on, and the relay's pid. The relay is not our child (see
    console_relay.detach()): the spawned process reports the relay's pid and exits, and is
    reaped here at once, before the script can wait for it."""

    def __init__(self, captures: list[int], originals: tuple[int, int]) -> None:
        store_r, store_w = os.pipe()
        try:  # room for what comes between two reads (the relay queues the rest)
            fcntl.fcntl(store_r, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
        except OSError:
            pass
        ctl_r, ctl_w = os.pipe()
        report_r, report_w = os.pipe()
        try:
            spawned = _spawn([*originals, *captures, store_w, ctl_r, report_w], len(captures))
            os.close(report_w)
            report_w = -1
            self.pid = _relay_pid(spawned, report_r)
        except BaseException:
            for fd in (store_r, ctl_r, ctl_w):
                os.close(fd)
            raise
        finally:
            for fd in (store_w, report_r, report_w):
                if fd >= 0:
                    os.close(fd)
        self.store, self.control = store_r, ctl_w
        self._hold = ctl_r  # a reader stays, so a sync never meets EPIPE (or SIGPIPE)
        os.set_blocking(ctl_w, False)
        self._buf = bytearray()
        self.acked = self.exiting = False
        self.gone = threading.Event()  # the relay has closed the store pipe: it has exited

    def frames(self) -> list[tuple[bytes, bytes]] | None:
        """The whole frames the relay has sent; None once it has gone."""
        try:
            data = os.read(self.store, 1 << 20)
        except OSError:
            data = b""
        if not data:
            return None
        buf = self._buf
        buf += data
        runs: list[tuple[bytes, list[bytes]]] = []  # one stream's run of frames: one feed
        at, size = 0, HEADER.size
        while len(buf) - at >= size:
            kind, n = HEADER.unpack_from(buf, at)
            if len(buf) - at < size + n:
                break
            payload = bytes(buf[at + size:at + size + n])
            if runs and runs[-1][0] == kind and kind in (b"0", b"1"):
                runs[-1][1].append(payload)
            else:
                runs.append((kind, [payload]))
            at += size + n
        del buf[:at]
        return [(kind, b"".join(parts)) for kind, parts in runs]

    def sync(self) -> None:
        try:
            os.write(self.control, b"S")
        except OSError:  # the relay has gone: the thread copies from here
            pass

    def close(self) -> None:
        for fd in (self.store, self.control, self._hold):
            try:
                os.close(fd)
            except OSError:
                pass


def _spawn(fds: list[int], n: int) -> int:
    """posix_spawn the relay with `fds` as its 1, 2, 3.., 5, 6 and 7 (the layout in
    console_relay.py), stdin /dev/null and BLOCKED signals blocked."""
    high: list[int] = []
    try:
        # Above fds 0-7, so that no dup2 in the child overwrites a source before it is used.
        for fd in fds:
            high.append(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10))
        targets = [1, 2, *range(3, 3 + n), 5, 6, 7]
        actions: list[Any] = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0)]
        actions += [(os.POSIX_SPAWN_DUP2, src, dst) for src, dst in zip(high, targets)]
        return os.posix_spawn(sys.executable, [sys.executable, "-I", "-S", RELAY, str(n)],
                              os.environ, file_actions=actions, setsigmask=BLOCKED)
    finally:
        for fd in high:
            os.close(fd)


def _relay_pid(spawned: int, report: int) -> int:
    """Reap the spawned process, which reports the relay's pid and exits (about a Python start,
    10-30 ms). Raises OSError where no relay was started."""
    data, deadline = b"", time.monotonic() + START_TIMEOUT
    poller = select.poll()
    poller.register(report, select.POLLIN)
    while not data.endswith(b"\n"):
        if not poller.poll(max(0.0, deadline - time.monotonic()) * 1000):
            os.kill(spawned, signal.SIGKILL)  # stuck starting: init goes on, copying in-process
            break
        if not (chunk := os.read(report, 32)):  # end of file: it died
            break
        data += chunk
    try:
        os.waitpid(spawned, 0)
    except ChildProcessError:  # SIGCHLD ignored: the kernel reaped it
        pass
    if not data.strip().isdigit():
        raise OSError(f"the console relay did not start (it reported {data[:40]!r})")
    return int(data)


def start_relay(captures: list[int], originals: tuple[int, int]) -> tuple[Link | None, str]:
    """A relay for `captures`, or None (and why) where one cannot start: this process copies."""
    exe = os.path.basename(sys.executable or "").lower()
    if getattr(sys, "frozen", False) or not ("python" in exe or "pypy" in exe):
        return None, f"sys.executable {sys.executable!r} may not be a Python interpreter"
    if not (os.path.isfile(RELAY) and hasattr(os, "posix_spawn") and fcntl is not None):
        return None, "no relay module file or posix_spawn to start it with"
    try:
        return Link(captures, originals), ""
    except (OSError, ValueError) as exc:
        return None, str(exc)
