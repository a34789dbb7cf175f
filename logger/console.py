"""Console capture: what the script writes to stdout and stderr goes into the run as
`ConsoleChunk` events, and still reaches the terminal exactly as before.

"redirect" works at the file-descriptor level (`logger/redirect.py`, through a relay process).
Where fds 1 and 2 write to one place (a terminal, `2>&1`) they share one pipe, stored as the
stream "output": the bytes keep the order the script wrote them in, as that terminal showed
them (two pipes cannot keep it, and the reader could not tell the streams apart there either).
"wrap" replaces `sys.stdout`/`sys.stderr` with a tee, for where fds cannot be redirected (a
notebook). `Recorder` turns text into chunks.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from . import events as ev

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
    batches: whatever each pipe holds when the reader gets to it)."""
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
