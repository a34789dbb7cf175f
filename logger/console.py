"""Console capture: what the script writes to stdout and stderr goes into the run as
`ConsoleChunk` events, and still reaches the terminal exactly as before.

"redirect" works at the file-descriptor level: fds 1 and 2 are pointed at a pipe (a pty when
the original was a terminal, so programs still see one and keep their colours), and a daemon
thread copies every byte to the original fd and records it. C extensions, `os.write(1, ...)`
and subprocesses are captured too. Where fds 1 and 2 write to one place (a terminal, `2>&1`)
they share one pipe, stored as the stream "output": the bytes keep the order the script wrote
them in, as that terminal showed them (two pipes cannot keep it, and the reader could not tell
the streams apart there either). "wrap" replaces `sys.stdout`/`sys.stderr` with a tee,
for where fds cannot be redirected (a notebook). `Recorder` turns text into chunks.
"""

from __future__ import annotations

import codecs
import os
import select
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from . import events as ev

try:
    import fcntl
    import termios
except ImportError:  # not POSIX: only "wrap" works there
    fcntl = termios = None  # type: ignore[assignment]

MODES = ("auto", "redirect", "wrap", "wrap_raw", "wrap_emu", "off")  # W&B's console settings
FLUSH_INTERVAL = 0.1  # whole lines reach the writer this often (the writer's own interval)
PARTIAL_INTERVAL = 1.0  # an unfinished line (a progress bar redrawn in place) at most this often
MAX_LINE = 64 * 1024  # an unfinished line longer than this is stored as it stands and restarted
DEFAULT_LIMIT = 64 * 1024 * 1024  # characters stored per process; $RUNWATCH_CONSOLE_LIMIT
DRAIN_TIMEOUT = 1.0  # finish waits this long for output still in the pipe, never for EOF
SHARED = "output"  # the stream of stdout and stderr written to one place, in the order written


class _Line:
    """One stream's unfinished line as a terminal shows it: `\\r` returns to column 0 and what
    follows overwrites, so a tqdm bar redrawn 1,000 times is one line."""

    __slots__ = ("chars", "col", "changed", "shown")

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.col = 0
        self.changed = False  # differs from what was last stored
        self.shown = False  # part of it is stored: the next store of it starts with "\r"

    def write(self, text: str) -> None:
        chars = self.chars
        for i, part in enumerate(text.split("\r")):
            if i:
                self.col = 0
            if "\b" in part:  # Keras' progress bar steps back over what it drew
                self._write_slow(part)
            elif part:
                end = self.col + len(part)
                chars[self.col:end] = part
                self.col = end
                self.changed = True

    def _write_slow(self, part: str) -> None:
        for ch in part:
            if ch == "\b":
                self.col = max(0, self.col - 1)
            else:
                self.chars[self.col:self.col + 1] = ch
                self.col += 1
                self.changed = True

    def text(self) -> str:
        return "".join(self.chars)

    def stored(self, final: str) -> str:
        """What to store for this line now (`final` is "\\n" when the line is complete)."""
        out = ("\r" if self.shown else "") + self.text() + final
        self.changed = False
        self.shown = not final
        if final:
            self.chars, self.col = [], 0
        return out


class Recorder:
    """Text from the streams, in order, as ConsoleChunks: whole lines every flush, an
    unfinished line (collapsed to its last redraw) at most every PARTIAL_INTERVAL."""

    def __init__(self, emit: Callable[[ev.Event], None], now: Callable[[], float],
                 limit: int = DEFAULT_LIMIT) -> None:
        self._emit, self._now, self._limit = emit, now, limit
        self._lines: dict[str, _Line] = {}
        self._pending: list[list[Any]] = []  # [stream, time, text] in arrival order
        self._stored = 0
        self._full = False
        self._last_partial = 0.0
        self._lock = threading.RLock()  # a signal handler may finish the run mid-feed

    def feed(self, stream: str, text: str) -> None:
        if not text:
            return
        with self._lock:
            line = self._lines.setdefault(stream, _Line())
            pieces = text.split("\n")
            out: list[str] = []
            for piece in pieces[:-1]:
                line.write(piece)
                out.append(line.stored("\n"))
            line.write(pieces[-1])
            if len(line.chars) > MAX_LINE:
                out.append(line.stored(""))
                line.chars, line.col, line.shown = [], 0, False
            if out:
                self._add(stream, "".join(out))

    def _add(self, stream: str, text: str) -> None:
        pending = self._pending
        if pending and pending[-1][0] == stream:
            pending[-1][2] += text
        else:
            pending.append([stream, self._now(), text])

    def flush(self, final: bool = False) -> None:
        """Emit what is pending; unfinished lines too when due (or `final`, at finish)."""
        with self._lock:
            now = self._now()
            if final or now - self._last_partial >= PARTIAL_INTERVAL:
                self._last_partial = now
                for stream, line in self._lines.items():
                    if line.changed:
                        self._add(stream, line.stored(""))
            pending, self._pending = self._pending, []
            for stream, t, text in pending:
                self._store(stream, t, text)

    def _store(self, stream: str, t: float, text: str) -> None:
        if self._full:
            return
        if self._stored + len(text) > self._limit:
            self._full = True
            fits = text[: self._limit - self._stored]
            fits = fits[: fits.rfind("\n") + 1]  # whole lines only
            if fits:
                self._emit(ev.ConsoleChunk(time=t, stream=stream, text=fits))
            self._emit(ev.ConsoleChunk(time=t, stream="note", text=(
                f"\n[runwatch: console output past {self._limit:,} characters is not stored; the "
                "terminal still showed it. Set RUNWATCH_CONSOLE_LIMIT to store more]\n")))
            return
        self._stored += len(text)
        self._emit(ev.ConsoleChunk(time=t, stream=stream, text=text))

    def note(self, text: str) -> None:
        """runwatch's own one-line explanations, stored beside the script's output."""
        with self._lock:
            self._emit(ev.ConsoleChunk(time=self._now(), stream="note", text=text.rstrip("\n") + "\n"))


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
    """fds 1 and 2 through a pipe (or pty) each, copied to the originals by a daemon thread."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self._streams: dict[int, tuple[str, int, Any]] = {}  # read fd -> (stream, original, decoder)
        self._saved: list[tuple[int, int]] = []  # (fd, saved copy of the original)
        self._wake_r, self._wake_w = os.pipe()  # stop() wakes the thread at once through this
        self._drained = threading.Event()
        self._recording = True
        try:
            if _same_destination():  # one pipe for both: the kernel keeps their order
                self._redirect((1, 2), SHARED)
            else:
                for fd, stream in ((1, "stdout"), (2, "stderr")):
                    self._redirect((fd,), stream)
        except OSError:
            self._undo()
            raise
        self._thread = threading.Thread(target=self._pump, name="runwatch-console", daemon=True)
        self._thread.start()

    def _redirect(self, fds: tuple[int, ...], stream: str) -> None:
        """Point `fds` (1, 2, or both) at one new pipe or pty, copied to the first one's
        original destination."""
        for fd in fds:
            _flush_python(fd)
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
        for fd in [*self._streams, self._wake_r]:
            poller.register(fd, select.POLLIN)
        open_fds = set(self._streams)
        stopping = False
        next_flush = time.monotonic() + FLUSH_INTERVAL
        while open_fds:
            wait = 0.0 if stopping and not self._drained.is_set() else next_flush - time.monotonic()
            ready = poller.poll(max(0.0, wait) * 1000)
            data = False
            for fd, _mask in ready:
                if fd == self._wake_r:
                    poller.unregister(fd)  # read once: after stop() closes its end it stays ready
                    stopping = True
                elif self._copy(fd):
                    data = True
                else:
                    poller.unregister(fd)
                    open_fds.discard(fd)
                    os.close(fd)
            if time.monotonic() >= next_flush:
                if self._recording:
                    self.recorder.flush()
                    self._follow_window_size()
                next_flush = time.monotonic() + FLUSH_INTERVAL
            if stopping and not data:
                self._drained.set()  # everything written before the fds were restored is read
        # Every writer has gone: the fds were restored (stop() wrote to the originals first).
        self._drained.set()
        for fd in (self._wake_r, *(saved for _fd, saved in self._saved)):
            os.close(fd)

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
        except OSError:  # EIO: a pty whose every writer has gone
            data = b""
        if not data:
            return False
        _write_all(original, data)
        if self._recording:
            self.recorder.feed(stream, decoder.decode(data))
        return True

    def stop(self) -> None:
        """Put the original fds back, record what was still in flight, and stop recording.
        A child process that still holds the pipe keeps being copied to the terminal."""
        for fd, saved in self._saved:
            _flush_python(fd)
            os.dup2(saved, fd)
        try:
            os.write(self._wake_w, b"x")
        except OSError:  # EPIPE: the thread saw every pipe end and has gone already
            pass
        os.close(self._wake_w)  # stop()'s own end: the thread may exit before this is read
        self._drained.wait(DRAIN_TIMEOUT)
        self._recording = False
        self.recorder.flush(final=True)

    def write_terminal(self, text: str) -> None:
        """Write to the original stderr, past the capture."""
        _write_all(self._saved[-1][1], text.encode("utf-8", "replace"))

    def after_fork(self) -> None:
        """A forked child writes through the pipe to its parent, which records it."""
        self._recording = False


class _Tee:
    """`sys.stdout` for "wrap": writes go to the stream it replaced, and are recorded."""

    def __init__(self, inner: Any, stream: str, recorder: Recorder) -> None:
        self._inner, self._stream, self._recorder = inner, stream, recorder
        self._active = True

    def write(self, text: str) -> int:
        n = self._inner.write(text)
        if not self._active:
            return n
        try:
            self._recorder.feed(self._stream, text if isinstance(text, str) else str(text))
        except Exception:  # noqa: BLE001 - recording must never break a print()
            pass
        return n

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class Wrap:
    """Python-level capture: `sys.stdout`/`sys.stderr` replaced by tees, flushed by a timer."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self._tees: dict[str, tuple[_Tee, Any]] = {}
        for stream in ("stdout", "stderr"):
            inner = getattr(sys, stream)
            if inner is None:
                continue
            tee = _Tee(inner, stream, recorder)
            self._tees[stream] = (tee, inner)
            setattr(sys, stream, tee)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._flusher, name="runwatch-console", daemon=True)
        self._thread.start()

    def _flusher(self) -> None:
        while not self._stop.wait(FLUSH_INTERVAL):
            self.recorder.flush()

    def stop(self) -> None:
        """Put back the streams this replaced, unless the script has replaced them since."""
        for stream, (tee, inner) in self._tees.items():
            if getattr(sys, stream) is tee:
                setattr(sys, stream, inner)
        self._stop.set()
        self._thread.join(1.0)
        self.recorder.flush(final=True)

    def after_fork(self) -> None:
        """A forked child only passes writes on: the recorder's lock may have been held by a
        thread that does not exist in the child."""
        self._stop.set()
        for tee, _inner in self._tees.values():
            tee._active = False


def _flush_python(fd: int) -> None:
    stream = sys.stdout if fd == 1 else sys.stderr
    try:
        if stream is not None:
            stream.flush()
    except Exception:  # noqa: BLE001 - a closed or odd stream: nothing buffered to lose
        pass


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(fd, view):]
    except OSError:  # the terminal went away: keep recording regardless
        pass


def _same_destination() -> bool:
    """Whether fds 1 and 2 write to one place (a terminal, or a file or pipe given as `2>&1`):
    there the reader sees one sequence, and only one pipe keeps it. Two pipes cannot: once
    both hold bytes, which came first is lost (a fast loop of print/os.write lands as two
    batches, since the capture thread waits up to 5 ms for the GIL)."""
    try:
        return os.path.samestat(os.fstat(1), os.fstat(2))
    except OSError:
        return False


def can_redirect() -> bool:
    """Whether fds 1 and 2 are what `sys.stdout`/`sys.stderr` write to, on a POSIX system."""
    if os.name != "posix":
        return False
    try:
        return sys.stdout.fileno() == 1 and sys.stderr.fileno() == 2 and (
            os.fstat(1) is not None and os.fstat(2) is not None)
    except (AttributeError, ValueError, OSError):
        return False
