"""What the app writes to its terminal, in bytes per second: over SSH every byte crosses the
link. Runs the real app (`python -m tui ROOT`) in a pseudo-terminal of 120x40 and counts what
it writes: idle over old runs, idle over runs that finished a minute ago (their "updated" ages
tick), following one live run in the table, and following it in the detail's charts.
Prints figures; asserts nothing.

    .venv/bin/python tests/bench/bench_ssh.py             # ~80 s
    .venv/bin/python tests/bench/bench_ssh.py --seconds 5 # shorter windows
    .venv/bin/python tests/bench/bench_ssh.py --dump DIR  # also save each window's bytes
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import struct
import subprocess
import sys
import tempfile
import termios
import textwrap
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.test_tui_support import write_run  # noqa: E402

HERTZ = os.sysconf("SC_CLK_TCK")
LIVE = """
    import sys, time, math
    import logger
    run = logger.init(project="live", name="live-run", dir=sys.argv[1], config={"lr": 0.01})
    i = 0
    while True:  # a training loop logging 10 steps a second, until SIGTERM
        run.log({"loss": 1 / (i + 1) + 0.01 * math.sin(i), "acc": 1 - 1 / (i + 2)})
        i += 1
        time.sleep(0.1)
"""


class Terminal:
    """The app on a pty of `cols` x `rows`; a thread counts every byte it writes."""

    def __init__(self, root: Path, state: Path, cols: int = 120, rows: int = 40) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "XDG_STATE_HOME": str(state),
               "PYTHONPATH": str(REPO)}
        env.pop("COLORTERM", None)
        self.proc = subprocess.Popen([sys.executable, "-m", "tui", str(root)], stdin=slave,
                                     stdout=slave, stderr=slave, env=env, cwd=REPO,
                                     start_new_session=True)
        os.close(slave)
        self.master = master
        self.chunks: list[tuple[float, bytes]] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                self.chunks.append((time.monotonic(), data))

    def window(self, seconds: float) -> tuple[list[bytes], float]:
        """What was written in the next `seconds`, and the app's CPU share meanwhile."""
        cpu0, t0 = self.cpu(), time.monotonic()
        time.sleep(seconds)
        cpu1, t1 = self.cpu(), time.monotonic()
        with self._lock:
            got = [d for t, d in self.chunks if t0 <= t < t1]
        return got, (cpu1 - cpu0) / (t1 - t0)

    def cpu(self) -> float:
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / HERTZ

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self) -> None:
        self.type("q")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


def describe(chunks: list[bytes], seconds: float) -> str:
    data = b"".join(chunks)
    moves = len(re.findall(rb"\x1b\[\d+;\d+H", data))  # cursor moves: one per repainted span
    return (f"{len(data) / seconds:9.0f} B/s  ({len(chunks) / seconds:5.1f} writes/s, "
            f"{moves / seconds:6.1f} cursor moves/s)")


def make_root(base: Path, recent: bool) -> Path:
    root = base / ("recent" if recent else "old")
    now = time.time()
    for i in range(7):
        t0 = now - 90 + i * 5 if recent else 1_700_000_000.0 + i * 100
        write_run(root, f"run{i:03d}", name=f"run-{i}", config={"lr": 10 ** -(i % 3 + 1),
                  "seed": i}, steps=30, t0=t0, dt=1.0 if recent else 10.0,
                  metrics=lambda s, i=i: {"loss": 1 / (s + 1 + i), "acc": s / 40})
    return root


def measure(label: str, term: Terminal, seconds: float, dump: Path | None) -> None:
    chunks, cpu = term.window(seconds)
    print(f"  {label:<44} {describe(chunks, seconds)}  cpu {100 * cpu:4.1f}%")
    if dump is not None:
        (dump / f"{label.split()[0]}.bin").write_bytes(b"".join(chunks))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each window")
    parser.add_argument("--dump", type=Path, help="save each window's bytes here")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="runwatch-ssh-"))
    state = base / "state"
    if args.dump:
        args.dump.mkdir(parents=True, exist_ok=True)
    print(f"the app in a 120x40 pty, TERM=xterm-256color, windows of {args.seconds:g} s")
    for recent in (False, True):
        term = Terminal(make_root(base, recent), state)
        time.sleep(4)  # first paint, first pass
        measure(("idle-recent (7 runs finished 1 min ago)" if recent else
                 "idle-old (7 runs finished long ago)"), term, args.seconds, args.dump)
        term.close()
    root = make_root(base, False)
    script = base / "live.py"
    script.write_text(textwrap.dedent(LIVE))
    term = Terminal(root, state)
    time.sleep(3)
    live = subprocess.Popen([sys.executable, str(script), str(root)],
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        time.sleep(4)  # the run appears on top; the cursor keeps the run it was on
        term.type("F")  # follow newest: the cursor moves to the live run
        time.sleep(1)
        measure("live-table (1 run logging 10 steps/s)", term, args.seconds, args.dump)
        term.type("\r")  # its charts
        time.sleep(3)
        measure("live-detail (its charts, same run)", term, args.seconds, args.dump)
    finally:
        live.terminate()
        live.wait()
        term.close()


if __name__ == "__main__":
    main()
