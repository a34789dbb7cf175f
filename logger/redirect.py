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

This process's end of the relay (starting it, its pipes, its pid) is logger/relay_link.py.
"""

from __future__ import annotations

import codecs
import os
import select
import threading
import time
from typing import Any

from . import console as con
from .relay_link import start_relay

try:
    import fcntl
    import termios
except ImportError:  # not POSIX: only "wrap" works there
    fcntl = termios = None  # type: ignore[assignment]

BATCH = 0.01  # the thread reads the relay's frames at most this often (it stores every 0.1 s)


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


class Redirect:
    """fds 1 and 2 through a pipe (or pty) each, copied to the originals by a relay process."""

    def __init__(self, recorder: con.Recorder) -> None:
        self.recorder = recorder
        self._streams: dict[int, tuple[str, int, Any]] = {}  # read fd -> (stream, original, decoder)
        self._saved: list[tuple[int, int]] = []  # (fd, saved copy of the original)
        self._wake_r, self._wake_w = os.pipe()  # stop() wakes the thread at once through this
        self._drained = threading.Event()
        self._wake_lock = threading.RLock()  # see _close_wake(); a signal handler may note meanwhile
        self._ours: dict[int, os.stat_result] = {}  # fd 1/2 -> the pipe put over it
        self._pump_done = self._stopped = False
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
            self._ours[fd] = os.fstat(write_end)
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
        # Every writer has gone: stop() restored the fds, or the script pointed them elsewhere.
        self._drained.set()
        self._close_wake(pump_done=True)

    def _close_wake(self, *, pump_done: bool = False, stopped: bool = False) -> None:
        """Close the wake pipe's read end and the saved originals once both the thread and
        stop() are done with them: stop() never writes to a pipe without a reader (under
        SIGPIPE's default, a death), and no note nor restore meets a number the script reused."""
        with self._wake_lock:
            self._pump_done |= pump_done
            self._stopped |= stopped
            if self._pump_done and self._stopped and self._saved:
                saved, self._saved = self._saved, []
                for fd in [self._wake_r, *(copy for _fd, copy in saved)]:
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
            with self._wake_lock:  # not while stop() syncs through it
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
            if self._still_ours(fd):  # not a file the script itself put on fd 1 or 2
                os.dup2(saved, fd)
        with self._wake_lock:  # the thread neither closes the link nor the wake pipe meanwhile
            link = self.link
            if link is not None:
                link.sync()
            if not self._pump_done:
                os.write(self._wake_w, b"x")  # one byte, to a pipe that still has its reader
        os.close(self._wake_w)  # stop()'s own end: the thread may exit before this is read
        self._close_wake(stopped=True)
        self._drained.wait(con.DRAIN_TIMEOUT)
        if link is not None and link.exiting:  # no writer left: reaped before the script exits
            link.gone.wait(con.DRAIN_TIMEOUT)
        self._recording = False
        self.recorder.flush(final=True)

    def _still_ours(self, fd: int) -> bool:
        try:
            return os.path.samestat(os.fstat(fd), self._ours[fd])
        except OSError:
            return False

    def write_terminal(self, text: str) -> None:
        """Write to the original stderr, past the capture; nowhere once it is closed."""
        with self._wake_lock:
            if self._saved:
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
