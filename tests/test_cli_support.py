"""Helpers for the CLI, tail and demo tests: a sample root, and the command run for real.

(No tests here: the name keeps it among the CLI's own test files.)
"""

from __future__ import annotations

import os
import pty
import queue
import select
import signal
import subprocess
import sys
import textwrap
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

# What a hostile run directory could hold: ESC/CSI, OSC 52 (clipboard), BEL, C1 CSI, bidi
# override, Rich markup and newlines.
HOSTILE = "evil\x1b[31m\x1b]52;c;aGk=\x07[bold red]x[/]\nline2\x9b2J\u202e"
RAW_CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e")

SAMPLE = """
import math, sys
import logger

root = sys.argv[1]
hostile = {hostile!r}
r = logger.init(project="cats", name="brisk-otter-7", dir=root, tags=["baseline"],
                notes="first try", config={{"lr": 0.001, "batch_size": 64, "optimizer": {{"name": "adam"}}}})
for i in range(10):
    r.log({{"loss": 1.0 / (i + 1), "acc": i / 10, "val": {{"loss": 2.0 / (i + 1)}}}})
r.finish()
r = logger.init(project="cats", name="failing-heron-2", dir=root, config={{"lr": 0.1}}, reinit=True)
for i in range(3):
    r.log({{"loss": 2.0 + i}})
r.finish(exit_code=1, state="failed",
         error="Traceback (most recent call last):\\n  File x\\nValueError: loss is nan")
r = logger.init(project="dogs", name=hostile, dir=root, tags=[hostile], notes=hostile,
                config={{"lr": 0.01, "comment": hostile}}, reinit=True)
r.log({{"loss": math.nan, "acc": math.inf, hostile: hostile}})
r.finish()
"""


def env(**extra: str) -> dict[str, str]:
    out = dict(os.environ)
    out.pop("RUNWATCH_DIR", None)
    out.pop("RUNWATCH_POLL", None)
    out["PYTHONPATH"] = str(REPO) + os.pathsep + out.get("PYTHONPATH", "")
    out.update(extra)
    return out


def rw(*args: str, input: str | None = None, timeout: float = 30, cwd: Path | None = None,
       **extra: str) -> subprocess.CompletedProcess[str]:
    """`runwatch ARGS` as a real process (python -m tui), output captured as text."""
    return subprocess.run([sys.executable, "-m", "tui", *args], cwd=cwd or REPO, env=env(**extra),
                          input=input, capture_output=True, text=True, timeout=timeout,
                          encoding="utf-8")


def spawn(*args: str, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tui", *args], cwd=REPO, env=env(**extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            encoding="utf-8")


def python(code: str, *args: str, wait: bool = True, timeout: float = 30) -> subprocess.Popen[str]:
    """A script (a training script, usually) as its own process."""
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], cwd=REPO,
                            env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if wait:
        _, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, err
    return proc


def make_sample(root: Path) -> Path:
    python(SAMPLE.format(hostile=HOSTILE), str(root))
    return root


class Lines:
    """A process's stdout read by a thread, so tests can wait for a line with a deadline."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._q: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._q.put(line)
        self._q.put(None)

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 15) -> str:
        deadline = time.monotonic() + timeout
        for line in self.lines:
            if predicate(line):
                return line
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no such line; got:\n" + "".join(self.lines))
            try:
                line = self._q.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError("output ended; got:\n" + "".join(self.lines))
            self.lines.append(line)
            if predicate(line):
                return line

    def rest(self, timeout: float = 15) -> str:
        """Everything until the process closes its stdout."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._q.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError("output did not end; got:\n" + "".join(self.lines)) from None
            if line is None:
                return "".join(self.lines)
            self.lines.append(line)


def reap(proc: subprocess.Popen[str], timeout: float = 15) -> int:
    """Wait for a process that should end by itself; its exit code (pipes closed)."""
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def assert_no_raw_controls(text: str) -> None:
    for ch in RAW_CONTROLS:
        assert ch not in text, f"raw {ch!r} reached the output"


def read_on_a_pty(argv: list[Any], env: dict[str, str], cwd: Path,
                  interrupt_when: Callable[[bytes], bool] | None = None) -> str:
    """Run `argv` with stdout a raw-mode terminal (no \n -> \r\n: every byte read back is the
    program's own) and return what it wrote, as UTF-8; it must exit 0. With `interrupt_when`,
    SIGINT (Ctrl-C) goes to it once what it wrote so far satisfies that: on what it shows, not
    after a fixed time a loaded machine may spend starting Python."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 120  # a program that never shows the awaited output
    while True:
        if interrupt_when is not None and (interrupt_when(b"".join(chunks))
                                           or time.monotonic() > deadline):
            proc.send_signal(signal.SIGINT)
            interrupt_when = None
        ready, _, _ = select.select([master], [], [], 1.0)
        if not ready:
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other end closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return b"".join(chunks).decode("utf-8")
