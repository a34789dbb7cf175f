"""Console capture at the file-descriptor level ("redirect"): fds 1 and 2 point at a pipe (a pty
when the original was a terminal, so programs still see one and keep their colours), and a
relay process (`logger/console_relay.py`) copies every byte to the original fd and frames a
copy back to a daemon thread here, which records it. C extensions, `os.write(1, ...)` and
subprocesses are captured too. Where fds 1 and 2 write to one place (a terminal, `2>&1`) they
share one pipe, stored as the stream "output", in the order the script wrote them.

The relay is a process so that a SIGKILL of the script loses nothing on the terminal: the
pipe's unread bytes outlive the script and the relay copies them and exits at end of file.
This process keeps a read end of every pipe too: if the relay dies, the thread here copies
(as it did before the relay), and no write of the script ever meets a pipe without a reader.

The relay is not the script's child: the spawned process forks it and exits, and is reaped in
init() (10-30 ms, a Python start), so the script's os.wait() and waitpid(-1) see its own
children only. Where the script is itself a subreaper (PR_SET_CHILD_SUBREAPER, or PID 1 of a
container), orphans are given to it, the relay among them: there it is the script's child still.
"""

from __future__ import annotations

import codecs
import os
import select
import signal
import struct
import sys
import threading
import time
from typing import Any

from . import console as con

try:
    import fcntl
    import termios
except ImportError:  # not POSIX: only "wrap" works there
    fcntl = termios = None  # type: ignore[assignment]

RELAY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "console_relay.py")
HEADER = struct.Struct(">cI")  # the relay's frames: kind, length (see console_relay.py)
START_TIMEOUT = 10.0  # seconds init waits for the relay to start (a Python start: 10-30 ms)
# What a terminal, tmux, SLURM or a launcher sends the script must not end the relay first.
BATCH = 0.01  # the thread reads the relay's frames at most this often (it stores every 0.1 s)
BLOCKED = {getattr(signal, n) for n in ("SIGINT", "SIGQUIT", "SIGTSTP", "SIGHUP", "SIGTERM")
           if hasattr(signal, n)}


def _fd_target(fd: int) -> tuple[int, int]:
    """(read end, write end) to put over `fd`: a pty if `fd` is a terminal, else a pipe."""
    if termios is not None and os.isatty(fd):
        try:
            master, slave = os.openpty()
            attrs = termios.tcgetattr(slave)
            attrs[1] &= ~termios.OPOST  # no "\n" -> "\r\n": the bytes pass through as written
            termios.tcsetattr(slave, termios.TCSANOW, attrs)
            size = fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)
            fcntl.ioctl(slave, termios.TIOCSWINSZ, size)
            return master, slave
        except OSError:
            pass
    return os.pipe()


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


class Redirect:
    """fds 1 and 2 through a pipe (or pty) each, copied to the originals by a relay process."""

    def __init__(self, recorder: con.Recorder) -> None:
        self.recorder = recorder
        self._streams: dict[int, tuple[str, int, Any]] = {}  # read fd -> (stream, original, decoder)
        self._saved: list[tuple[int, int]] = []  # (fd, saved copy of the original)
        self._wake_r, self._wake_w = os.pipe()  # stop() wakes the thread at once through this
        self._drained = threading.Event()
        self._recording = True
        try:
            if con._same_destination():  # one pipe for both: the kernel keeps their order
                self._redirect((1, 2), con.SHARED)
            else:
                for fd, stream in ((1, "stdout"), (2, "stderr")):
                    self._redirect((fd,), stream)
        except OSError:
            self._undo()
            raise
        originals = (self._saved[0][1], self._saved[-1][1])
        self.link, why = start_relay(list(self._streams), originals)
        if self.link is None:
            recorder.note(f"runwatch: no console relay ({why}): output written just before a "
                          "SIGKILL may miss the terminal")
        self._kinds = {str(i).encode(): (s, d) for i, (s, _o, d) in enumerate(self._streams.values())}
        self._open: set[int] = set()  # the pipes the thread itself copies (without a relay)
        self._thread = threading.Thread(target=self._pump, name="runwatch-console", daemon=True)
        self._thread.start()

    def _redirect(self, fds: tuple[int, ...], stream: str) -> None:
        """Point `fds` (1, 2, or both) at one new pipe or pty, copied to the first one's
        original destination."""
        for fd in fds:
            con._flush_python(fd)
            saved = os.dup(fd)
            os.set_inheritable(saved, False)
            self._saved.append((fd, saved))
        read_end, write_end = _fd_target(fds[0])
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._streams[read_end] = (stream, self._saved[-len(fds)][1], decoder)
        for fd in fds:
            os.dup2(write_end, fd)
        os.close(write_end)

    def _undo(self) -> None:
        """Put back what a failed start changed: the run goes on with the fds as they were."""
        for fd, saved in self._saved:
            os.dup2(saved, fd)
            os.close(saved)
        for fd in [*self._streams, self._wake_r, self._wake_w]:
            os.close(fd)

    def _pump(self) -> None:
        poller = select.poll()
        poller.register(self._wake_r, select.POLLIN)
        if self.link is None:
            self._take_over(poller)
        else:
            poller.register(self.link.store, select.POLLIN)
        stopping = False
        next_flush = time.monotonic() + con.FLUSH_INTERVAL
        while self._open or self.link is not None:
            spin = stopping and not self._drained.is_set() and self.link is None
            wait = 0.0 if spin else next_flush - time.monotonic()
            data = False
            for fd, _mask in poller.poll(max(0.0, wait) * 1000):
                if fd == self._wake_r:
                    poller.unregister(fd)  # read once: after stop() closes its end it stays ready
                    stopping = True
                elif self.link is not None and fd == self.link.store:
                    if self._from_relay(poller):
                        data = True
                        time.sleep(BATCH)  # let frames gather: fewer wake-ups, less GIL taken
                elif self._copy(fd):
                    data = True
                else:
                    poller.unregister(fd)
                    self._open.discard(fd)
                    os.close(fd)
            if time.monotonic() >= next_flush:
                self._tick()
                next_flush = time.monotonic() + con.FLUSH_INTERVAL
            if stopping and not data and self.link is None:
                self._drained.set()  # everything written before the fds were restored is read
        # Every writer has gone: the fds were restored (stop() wrote to the originals first).
        self._drained.set()
        for fd in (self._wake_r, *(saved for _fd, saved in self._saved)):
            os.close(fd)

    def _tick(self) -> None:
        if self._recording:
            self.recorder.flush()
            self._follow_window_size()

    def _from_relay(self, poller: Any) -> bool:
        """Record the relay's frames; when it has gone, copy the pipes here from now on."""
        assert self.link is not None
        frames = self.link.frames()
        if frames is None:
            link, self.link = self.link, None
            poller.unregister(link.store)
            link.gone.set()
            link.close()
            if not link.acked and not self._all_hung_up():
                self._say("runwatch: the console relay has exited; copying the console "
                          "in-process from here")
            self._take_over(poller)
            return False
        for kind, payload in frames:
            known = self._kinds.get(kind)
            if known is not None:
                if self._recording:
                    self.recorder.feed(known[0], known[1].decode(payload))
            elif kind in (b"A", b"E"):
                self.link.acked, self.link.exiting = True, kind == b"E"
                self._drained.set()
            elif kind == b"D":
                self._say(f"runwatch: {int.from_bytes(payload, 'big'):,} bytes of console "
                          "output were not stored (not read for 10 s); the terminal showed them")
        return bool(frames)

    def _take_over(self, poller: Any) -> None:
        for fd in self._streams:
            poller.register(fd, select.POLLIN)
            self._open.add(fd)

    def _say(self, text: str) -> None:
        self.write_terminal(text + "\n")
        if self._recording:
            self.recorder.note(text)

    def _all_hung_up(self) -> bool:
        """Whether every writer of the pipes has gone too (the relay then ended as it should)."""
        poller = select.poll()
        for fd in self._streams:
            poller.register(fd, select.POLLIN)
        ready = dict(poller.poll(0))
        return all(ready.get(fd, 0) & select.POLLHUP and not ready[fd] & select.POLLIN
                   for fd in self._streams)

    def _follow_window_size(self) -> None:
        """A terminal resized: the pty over fd 1/2 takes its size, for tqdm and
        shutil.get_terminal_size (two ioctls every flush interval)."""
        if termios is None:
            return
        for fd, saved in self._saved:
            try:
                size = fcntl.ioctl(saved, termios.TIOCGWINSZ, b"\0" * 8)
                if size != fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8):
                    fcntl.ioctl(fd, termios.TIOCSWINSZ, size)
            except OSError:  # not a terminal (a pipe): nothing to follow
                continue

    def _copy(self, fd: int) -> bool:
        """Copy what `fd` has to its original and record it; False at end of file."""
        stream, original, decoder = self._streams[fd]
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return True
        except OSError:  # EIO: a pty whose every writer has gone
            data = b""
        if not data:
            return False
        con._write_all(original, data)
        if self._recording:
            self.recorder.feed(stream, decoder.decode(data))
        return True

    def stop(self) -> None:
        """Put the original fds back, record what was still in flight, and stop recording.
        A child process that still holds the pipe keeps being copied to the terminal."""
        for fd, saved in self._saved:
            con._flush_python(fd)
            os.dup2(saved, fd)
        link = self.link
        if link is not None:
            link.sync()
        try:
            os.write(self._wake_w, b"x")
        except OSError:  # EPIPE: the thread saw every pipe end and has gone already
            pass
        os.close(self._wake_w)  # stop()'s own end: the thread may exit before this is read
        self._drained.wait(con.DRAIN_TIMEOUT)
        if link is not None and link.exiting:  # no writer left: reaped before the script exits
            link.gone.wait(con.DRAIN_TIMEOUT)
        self._recording = False
        self.recorder.flush(final=True)

    def write_terminal(self, text: str) -> None:
        """Write to the original stderr, past the capture."""
        con._write_all(self._saved[-1][1], text.encode("utf-8", "replace"))

    def after_fork(self) -> None:
        """A forked child writes through the pipe to its parent, which records it; it holds
        none of the relay's pipes (the relay sees the parent go when the parent goes)."""
        self._recording = False
        link = self.link
        if link is not None:
            link.close()
            for fd in self._streams:
                os.close(fd)
