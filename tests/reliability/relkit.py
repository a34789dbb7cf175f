"""Helpers for the reliability suite: scripts run as real subprocesses, polling with a
deadline, and reading a root back the way every reader does."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from logger import events as ev
from logger.api import Api
from logger.reader import RootReader
from logger.rundata import RunData
from logger.writer import RunwatchWarning

REPO = Path(__file__).resolve().parents[2]
LONG = False  # set from --long by conftest.py before the test modules are imported

T = TypeVar("T")


def scale(ci: T, long: T) -> T:
    """The CI size of something, or its --long size."""
    return long if LONG else ci


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    for name in ("RUNWATCH_DIR", "RUNWATCH_MODE", "WANDB_MODE"):
        env.pop(name, None)
    env["PYTHONWARNINGS"] = "always"  # every warning a child gives reaches its stderr
    env.update(extra)
    return env


def write_script(directory: Path, name: str, code: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(code))
    return path


def run_script(script: Path, *args: object, cwd: Path | None = None, timeout: float = 60,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(script), *map(str, args)], cwd=cwd or script.parent,
                          env=env or child_env(), capture_output=True, text=True, timeout=timeout)


class Child:
    """A script running as a subprocess, with its stdout read line by line under a deadline."""

    def __init__(self, script: Path, *args: object, cwd: Path | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(script), *map(str, args)], cwd=cwd or script.parent,
            env=env or child_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        self.pid = self.proc.pid
        self._buf = b""
        self._sel = selectors.DefaultSelector()
        assert self.proc.stdout is not None
        self._sel.register(self.proc.stdout, selectors.EVENT_READ)

    def expect(self, prefix: str, timeout: float = 30.0) -> str:
        """The next stdout line starting with `prefix` (earlier lines are passed over)."""
        deadline = time.monotonic() + timeout
        want = prefix.encode()
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while True:
            while b"\n" in self._buf:
                line, self._buf = self._buf.split(b"\n", 1)
                if line.startswith(want):
                    return line.decode()
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"child {self.pid} printed no {prefix!r} within {timeout}s")
            if not self._sel.select(left):
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                rc = self.proc.wait()
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise AssertionError(f"child exited ({rc}) before printing {prefix!r}:\n{err}")
            self._buf += chunk

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def kill(self, reap: bool = True) -> None:
        """SIGKILL (no handler, no atexit, no flush); reap it unless told to leave a zombie."""
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if reap:
            self.proc.wait()

    def finish(self, timeout: float = 60.0) -> tuple[int, str, str]:
        """Wait for a clean exit: (return code, rest of stdout, stderr)."""
        out, err = self.proc.communicate(timeout=timeout)
        self._sel.close()
        return self.proc.returncode, (self._buf + out).decode(errors="replace"), err.decode(errors="replace")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.kill()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        self._sel.close()


def wait_until(predicate: Callable[[], T], timeout: float, what: str, interval: float = 0.01) -> T:
    """Poll `predicate` until it returns something truthy; fail naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def read_root(root: Path) -> RootReader:
    reader = RootReader(root)
    reader.scan()
    reader.refresh_states()
    return reader


def assert_contiguous(steps: Iterable[int], what: str = "steps") -> list[int]:
    """Steps 0..N, each exactly once, in order."""
    got = list(steps)
    assert got == list(range(len(got))), f"{what} are not 0..{len(got) - 1}: {_gaps(got)}"
    return got


def _gaps(steps: list[int]) -> str:
    seen = set(steps)
    missing = [s for s in range(max(seen, default=-1) + 1) if s not in seen][:10]
    dupes = sorted({s for s in steps if steps.count(s) > 1})[:10] if len(steps) < 5000 else "?"
    return f"missing {missing}, duplicated {dupes}, first {steps[:10]}"


def frame_spans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every frame of an intact segment, after its header."""
    spans = []
    pos = ev.HEADER_SIZE
    while pos < len(data):
        marker, length, _crc = ev.FRAME_HEAD.unpack_from(data, pos)
        assert marker == ev.MARKER, f"not an intact segment at {pos}"
        end = pos + ev.FRAME_HEAD_SIZE + length
        spans.append((pos, end))
        pos = end
    return spans


def frame_events(data: bytes) -> list[list[bytes]]:
    """The events of each frame of an intact segment (a frame holds one flush's batch)."""
    return [encoded(ev.scan_frames(data[start:end])[0]) for start, end in frame_spans(data)]


def encoded(events: Iterable[Any]) -> list[bytes]:
    """Events as their exact msgpack bytes: equality that also holds for NaN."""
    enc = ev._encoder.encode
    return [enc(e) for e in events]


def segment_files(run_dir: Path) -> list[Path]:
    return sorted(run_dir.glob("*" + ev.SEGMENT_SUFFIX))


def exercise(run: RunData) -> None:
    """Everything a reader shows of a run, so any of it that raises fails the test."""
    for name in ("name", "notes", "tags", "group", "job_type", "config", "metrics", "start",
                 "created_at", "first_segment", "step", "runtime", "skipped_frames", "errors",
                 "summary", "state", "exit_code", "error", "artifacts", "files"):
        getattr(run, name)
    run.summary_flat()
    history = run.history
    list(history.rows())
    for key in history.keys():
        for x in ("_step", "_timestamp", "_runtime"):
            history.series(key, x)
    history.numeric_keys()


def exercise_api(root: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunwatchWarning)
        api = Api(root)
        for run in api.runs():
            for name in ("name", "notes", "tags", "state", "config", "summary", "group",
                         "job_type", "created_at", "lastHistoryStep", "metadata", "host"):
                getattr(run, name)
            list(run.scan_history())
            run.history(pandas=False)
            run.files()
            run.logged_artifacts()


# The body of a 1 kHz soak writer (after `logger.init`), shared by the logger's soak and the
# live soak with the app and tail open: one step a millisecond, 6 values, then DONE.
SOAK_LOOP = r"""clock = time.perf_counter
start = clock()
due, end, i = start, start + seconds, 0
while True:
    now = clock()
    if now >= end:
        break
    logger.log({"loss": 1.0 / (i + 1), "acc": i * 1e-6, "lr": 3e-4, "epoch": i // 1000,
                "grad": {"norm": 0.5, "max": 2.0}})
    i += 1
    due += 0.001
    if due > now:
        time.sleep(due - now)
took = clock() - start
logger.finish()
print("DONE", i, took, flush=True)
"""
