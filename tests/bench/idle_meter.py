"""What an app costs idle in the real terminal (bench_scale_app.py's idle section): started
in tmux at 120x40, then each thread's CPU and every wakeup counted from /proc over a while.
Also the floor it is held against, a bare Textual DataTable of the same rows, and the silent
run (a running run that logs once, then only heartbeats and system samples)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[2]
HERTZ = os.sysconf("SC_CLK_TCK")

__all__ = ["Idle", "floor_cmd", "measure", "silent_run", "threads_text"]


def _tmux(session: str, cmd: str) -> int:
    subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, check=False)
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40", cmd],
                   check=True, cwd=REPO,
                   env={**os.environ, "PYTHONPATH": str(REPO), "TERM": "xterm-256color"})
    out = subprocess.run(["tmux", "display", "-p", "-t", session, "#{pane_pid}"],
                         capture_output=True, text=True, check=True).stdout
    return int(out.strip())


SILENT = """
import sys, time, logger
run = logger.init(project="bench", name="silent", dir=sys.argv[1])
run.log({"m0": 1.0})
time.sleep(float(sys.argv[2]))
"""

# The floor: what Textual itself costs idle, a bare app with one DataTable of the same rows
# and columns as the app's table at 120 columns (optionally one cell updated each second,
# as a running run's age ticks), in the same tmux.
FLOOR = """
import sys, time
from textual.app import App
from textual.widgets import DataTable

class Floor(App):
    def compose(self):
        yield DataTable()

    def on_mount(self):
        table = self.query_one(DataTable)
        table.add_columns("state", "name", "m0", "step", "updated", "lr", "batch_size",
                          "model", "m1")
        for i in range(int(sys.argv[1])):
            table.add_row("✓ finished", f"run-{i}", "0.1845 █▅▄▃▂▂▁▁", "999", "23-11-14",
                          "0.001", "64", "mlp", "0.3553 █▅▄▃▂▂▁▁", key=str(i))
        if sys.argv[2] == "tick":
            start, column = time.monotonic(), table.ordered_columns[4].key
            self.set_interval(1.0, lambda: table.update_cell(
                "0", column, f"{int(time.monotonic() - start)}s"))

Floor().run()
"""


class Task(NamedTuple):
    """One thread as /proc has it: CPU seconds, wakeups (voluntary context switches) so
    far, its kernel name (Python's threads all read "python") and state ("Z": a zombie)."""

    cpu: float
    wakeups: int
    name: str
    state: str


def _tasks(pid: int) -> dict[int, Task]:
    """Every thread of `pid` by id (the main thread's is the pid)."""
    out: dict[int, Task] = {}
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:  # it ended (a tmux server killed by someone else's test)
        return out
    for task in tasks:
        where = f"/proc/{pid}/task/{task}"
        try:
            with open(f"{where}/stat", "rb") as f:
                head, tail = f.read().rsplit(b")", 1)
            with open(f"{where}/status") as f:
                woke = sum(int(line.split()[1]) for line in f
                           if line.startswith("voluntary_ctxt_switches:"))
        except OSError:  # the thread ended meanwhile
            continue
        fields = tail.split()
        out[int(task)] = Task((int(fields[11]) + int(fields[12])) / HERTZ,  # utime + stime
                              woke, head.split(b"(", 1)[1].decode(errors="replace"),
                              fields[0].decode())
    return out


class Idle(NamedTuple):
    """What a command cost idle: % of a core in all, in its main thread, wakeups a second,
    and each thread's (name, %, wakeups a second): "main" first, the rest costliest first."""

    cpu: float
    main: float
    wakeups: float
    threads: list[tuple[str, float, float]]


def measure(cmd: str, seconds: float) -> Idle:
    """What the command costs in tmux over `seconds` once started (Textual's input thread
    alone wakes 10 times a second, its 0.1 s select)."""
    # One tmux server for every user of the machine: a fixed name let two benches kill each
    # other's app mid-measure (a floor of 0.00 % and -1.6 wakeups a second, its pid a zombie).
    session = f"rw-bench-idle-{os.getpid()}"
    try:
        pid = _tmux(session, cmd)
        time.sleep(8)  # loaded, first paint done
        if not os.path.exists(f"/proc/{pid}"):
            raise RuntimeError(f"{cmd!r} exited in tmux before it was measured: run it by hand")
        t0, before = time.monotonic(), _tasks(pid)
        time.sleep(seconds)
        after, wall = _tasks(pid), time.monotonic() - t0
        if pid not in after or after[pid].state in ("Z", "X"):
            raise RuntimeError(f"{cmd!r} ended while measured (its tmux server killed by "
                               "another user of the machine?): run the bench again")
        zero = Task(0.0, 0, "", "")
        threads = sorted((("main" if t == pid else f"{a.name}:{t}",
                           100 * (a.cpu - before.get(t, zero).cpu) / wall,
                           (a.wakeups - before.get(t, zero).wakeups) / wall)
                          for t, a in after.items()), key=lambda x: (x[0] != "main", -x[1]))
        return Idle(sum(t[1] for t in threads), threads[0][1], sum(t[2] for t in threads),
                    threads)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)


@contextmanager
def silent_run(root: Path, seconds: float) -> Iterator[None]:
    """A running run under `root` (bench/silent) that logs once and then nothing for
    `seconds`: its writer heartbeats and samples the system every 10 s meanwhile."""
    script = root.parent / "silent.py"
    script.write_text(SILENT)
    live = subprocess.Popen([sys.executable, str(script), str(root), str(seconds)],
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        yield
    finally:
        live.kill()
        live.wait()


def floor_cmd(work: Path, rows: int, tick: bool) -> str:
    """The floor app's command line (its script written into `work`)."""
    script = work / "floor.py"
    script.write_text(FLOOR)
    return f"exec {sys.executable} {script} {rows} {'tick' if tick else 'still'}"


def threads_text(idle: Idle) -> str:
    """Each thread that counts, "main 0.07 % 1.2/s, python:1234 0.10 % 10.0/s"."""
    return ", ".join(f"{name} {pct:.2f} % {woke:.1f}/s" for name, pct, woke in idle.threads
                     if pct >= 0.005 or woke >= 0.5)
