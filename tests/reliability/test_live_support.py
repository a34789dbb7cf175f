"""Helpers for the live-side reliability tests (`test_live_*.py`): the app in a real terminal
(a private tmux server), `runwatch tail` as a subprocess read by a thread, /proc sampling, and
snapshots of directory trees. No tests here.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import relkit

REPO = relkit.REPO
TICK = os.sysconf("SC_CLK_TCK")

# What a hostile run could carry: SGR colour, OSC 2 (window title), OSC 52 (clipboard), BEL,
# C1 CSI, a bidi override, Rich markup, and an erase-screen.
HOSTILE = "evil\x1b[31mRED\x1b]2;PWNED\x07\x1b]52;c;aGk=\x07[bold red]x[/]\u202eRTL\x9b2J\x1b[2J"
HOSTILE_SHOWN = "evil\\x1b[31mRED\\x1b]2;PWNED\\x07"  # its start as safe_text shows it
PWNED = "PWNED"
# Everything that must never reach a terminal raw: C0 but tab and newline, DEL, C1, bidi.
RAW_CONTROLS = [chr(c) for c in (*range(0x00, 0x09), *range(0x0b, 0x20), *range(0x7f, 0xa0))]
RAW_CONTROLS += ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
                 "\u2069", "\u200e", "\u200f", "\u061c"]


def raw_controls_in(text: str) -> list[str]:
    return sorted({repr(ch) for ch in text if ch in RAW_CONTROLS})


def rw_argv(*args: object) -> list[str]:
    """`runwatch ARGS` as a real process."""
    return [sys.executable, "-m", "tui", *map(str, args)]


def env(**extra: str) -> dict[str, str]:
    out = relkit.child_env()
    out.pop("RUNWATCH_POLL", None)
    out.update(extra)
    return out


# -- runwatch tail as a subprocess -----------------------------------------------------------
class TailProc:
    """`runwatch tail ...` running, its stdout and stderr read by threads as they come.

    With `--json` each stdout line is parsed; `on_line` (called in the reader thread) lets a
    long soak count lines instead of keeping them.
    """

    def __init__(self, *args: object, argv: list[str] | None = None, keep: bool = True,
                 on_line: Callable[[Any], None] | None = None, **extra: str) -> None:
        self.json = "--json" in map(str, args)
        self.proc = subprocess.Popen(argv or rw_argv("tail", *args), cwd=REPO, env=env(**extra),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.pid = self.proc.pid
        self.lines: list[Any] = []
        self.err: list[str] = []
        self.count = 0
        self.bad: list[str] = []  # stdout lines that are not JSON (with --json)
        self.raw = bytearray() if keep else None
        self._keep, self._on_line = keep, on_line
        self._cond = threading.Condition()
        self._out = threading.Thread(target=self._read_out, daemon=True)
        self._err = threading.Thread(target=self._read_err, daemon=True)
        self._out.start()
        self._err.start()

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            text = raw.decode("utf-8", errors="replace")
            item: Any = text
            if self.json:
                try:
                    item = json.loads(text)
                except ValueError:
                    self.bad.append(text)
                    continue
            if self._on_line is not None:
                self._on_line(item)
            with self._cond:
                if self._keep:
                    self.lines.append(item)
                    assert self.raw is not None
                    self.raw += raw
                self.count += 1
                self._cond.notify_all()

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            with self._cond:
                self.err.append(raw.decode("utf-8", errors="replace"))
                self._cond.notify_all()

    def wait(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._out.is_alive()):
                    if predicate():
                        return
                    raise AssertionError(
                        f"tail: timed out after {timeout}s waiting for {what} (exit {self.proc.poll()})"
                        f"\nstderr: {''.join(self.err)[-2000:]}\nlast lines: {self.lines[-5:]}")
                self._cond.wait(min(left, 0.2))

    def wait_err(self, text: str, timeout: float = 20) -> None:
        self.wait(lambda: text in "".join(self.err), timeout, f"{text!r} on stderr")

    def stop(self) -> int:
        """Ctrl-C, as a person would; the exit code (130)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.join(timeout=15)
        self._err.join(timeout=15)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        return self.proc.returncode

    def of_kind(self, kind: str, run: str | None = None) -> list[dict[str, Any]]:
        with self._cond:
            return [x for x in self.lines if x.get("kind") == kind and (run is None or x["run"] == run)]


# -- the app in a real terminal --------------------------------------------------------------
def need_tmux() -> None:
    if shutil.which("tmux") is None:
        pytest.skip("needs tmux: the app is checked in a real terminal")


class Tmux:
    """A private tmux server (its own socket: no other test's sessions) running one command."""

    def __init__(self, argv: list[str], cwd: Path = REPO, size: tuple[int, int] = (160, 40),
                 env_extra: dict[str, str] | None = None) -> None:
        need_tmux()
        self.socket = f"rw-live-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        environment = env(TERM="xterm-256color", **(env_extra or {}))
        environment.pop("NO_COLOR", None)
        environment.pop("TMUX", None)
        self._env = environment
        # Let what the app prints set the title and the clipboard, so that a leak shows; keep
        # the pane after the app exits, so that its last screen can be read.
        fd, conf = tempfile.mkstemp(prefix="rw-live-tmux-", suffix=".conf")
        os.write(fd, b"set-option -g set-clipboard on\nset-option -g allow-rename on\n"
                     b"set-window-option -g remain-on-exit on\n")
        os.close(fd)
        self._conf = conf
        self.tmux("-f", conf, "new-session", "-d", "-s", "app", "-x", str(size[0]), "-y", str(size[1]),
                  "-c", str(cwd), *argv, check=True)
        self.tmux("select-pane", "-t", "app", "-T", "clean")
        self.pid = int(self.tmux("display-message", "-p", "-t", "app", "#{pane_pid}").strip())

    def tmux(self, *args: str, check: bool = False) -> str:
        proc = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                              env=self._env, check=False, timeout=20)
        if check and proc.returncode != 0:
            raise AssertionError(f"tmux {args[0]} failed: {proc.stderr}")
        return proc.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "app")

    def title(self) -> str:
        return self.tmux("display-message", "-p", "-t", "app", "#{pane_title}").strip()

    def buffers(self) -> str:
        return self.tmux("list-buffers")

    def dead(self) -> bool:
        return self.tmux("display-message", "-p", "-t", "app", "#{pane_dead}").strip() == "1"

    def wait(self, predicate: Callable[[str], bool], what: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if predicate(screen):
                return screen
            if self.dead():
                break
            time.sleep(0.1)
        raise AssertionError(f"the screen never showed {what}; last screen:\n{screen}")

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", "app", *(["-l"] if literal else []), *keys, check=True)

    def type(self, text: str) -> None:
        self.keys(text, literal=True)

    def close(self) -> None:
        self.tmux("kill-server")
        os.unlink(self._conf)


def row_of(screen: str, needle: str) -> str:
    return next((line for line in screen.splitlines() if needle in line), "")


# -- /proc ------------------------------------------------------------------------------------
def proc_sample(pid: int) -> tuple[int, int] | None:
    """(RSS in kB, CPU ticks user+system) of a live process, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return rss, int(fields[11]) + int(fields[12])  # utime, stime: fields 14, 15 of stat
    except (OSError, StopIteration, IndexError, ValueError):
        return None


class Sampler:
    """Samples RSS and CPU of named processes every `every` seconds, in a thread."""

    def __init__(self, pids: dict[str, int], every: float) -> None:
        self.pids = pids
        self.every = every
        self.samples: dict[str, list[tuple[float, int, int]]] = {name: [] for name in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def _run(self) -> None:
        while True:
            now = time.monotonic()
            for name, pid in self.pids.items():
                got = proc_sample(pid)
                if got is not None:
                    self.samples[name].append((now, *got))
            if self._stop.wait(self.every):
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def figures(self, name: str, warmup: float = 0.2) -> dict[str, float]:
        """RSS (MB) at start, early and late in the steady part (the median of the first and
        last fifth after `warmup`), peak, growth between early and late; CPU over the whole."""
        s = self.samples[name]
        assert len(s) >= 10, f"only {len(s)} samples of {name}"
        steady = s[int(len(s) * warmup):]
        fifth = max(1, len(steady) // 5)
        early, late = steady[:fifth], steady[-fifth:]
        seconds = s[-1][0] - s[0][0]
        cpu = (s[-1][2] - s[0][2]) / TICK
        return {"rss_start_mb": s[0][1] / 1024, "rss_early_mb": _median(early) / 1024,
                "rss_late_mb": _median(late) / 1024, "rss_peak_mb": max(x[1] for x in s) / 1024,
                "growth_mb": (_median(late) - _median(early)) / 1024,
                "growth_seconds": late[len(late) // 2][0] - early[len(early) // 2][0],
                "cpu_s": cpu, "seconds": seconds, "cpu_pct": 100 * cpu / seconds if seconds else 0.0,
                "samples": len(s)}


def _median(samples: list[tuple[float, int, int]]) -> int:
    return sorted(x[1] for x in samples)[len(samples) // 2]


# -- trees ------------------------------------------------------------------------------------
def snapshot(*roots: Path) -> dict[str, tuple[int, int, int, int]]:
    """Every entry under `roots`: path -> (mode, inode, size, mtime_ns); directories by mode
    and inode only (a new file in one changes its mtime, and that is the new file's doing)."""
    out: dict[str, tuple[int, int, int, int]] = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in [*dirnames, *filenames]:
                path = os.path.join(dirpath, name)
                st = os.lstat(path)
                if stat.S_ISDIR(st.st_mode):
                    out[path] = (st.st_mode, st.st_ino, 0, 0)
                else:
                    out[path] = (st.st_mode, st.st_ino, st.st_size, st.st_mtime_ns)
    return out


def tree_diff(before: dict[str, tuple[int, int, int, int]],
              after: dict[str, tuple[int, int, int, int]]) -> tuple[list[str], list[str], list[str]]:
    """(new, changed, removed) paths."""
    new = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(p for p in set(before) & set(after) if before[p] != after[p])
    return new, changed, removed


def user_python(user: int = 65534) -> tuple[list[str], dict[str, str]] | None:
    """An interpreter an unprivileged user can run with this checkout's packages importable:
    (argv prefix, extra env), or None. The venv's own python may sit under /root (mode 0700)."""
    import site

    if shutil.which("setpriv") is None:
        return None
    drop = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"]
    paths = os.pathsep.join([str(REPO), *site.getsitepackages()])
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [sys.executable, os.path.realpath(sys.executable), f"/usr/bin/{version}",
                  f"/usr/local/bin/{version}", shutil.which(version) or ""]
    extra = {"PYTHONPATH": paths, "PYTHONDONTWRITEBYTECODE": "1"}
    for python in dict.fromkeys(c for c in candidates if c):
        argv = [*drop, "env", *(f"{k}={v}" for k, v in extra.items()), python]
        probe = subprocess.run([*argv, "-c", "import tui.app, msgspec, watchfiles, textual"],
                               cwd="/", capture_output=True, env=env(), timeout=60, check=False)
        if probe.returncode == 0:
            return argv, extra
    return None


def world_readable_dir(prefix: str) -> Path:
    """A fresh directory under /tmp that another user can enter (pytest's tmp_path is 0700)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


def remove_tree(path: Path) -> None:
    for dirpath, _dirs, _files in os.walk(path):
        os.chmod(dirpath, 0o755)
    shutil.rmtree(path, ignore_errors=True)
