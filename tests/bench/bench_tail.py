"""Does `runwatch tail` keep up with 20 runs x 1,000 steps/s? Prints lag figures, asserts nothing.

    .venv/bin/python tests/bench/bench_tail.py                 # 20 writers x 1000 steps/s, 10 s
    .venv/bin/python tests/bench/bench_tail.py --writers 5 --rate 200 --seconds 5 --mode human

Each writer is a real process logging through `logger` on a fixed schedule, with its own wall
clock in the row (`t`). tail runs as its own process; this script reads its stdout and, for
every line, takes now - t: the lag from `log()` in the writer to the line arriving here. That
includes the writer's ~100 ms flush interval, watchfiles' 50 ms debounce, reading, decoding
and printing. "Catch-up" is how long after the last write the last step of every run arrived.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

WRITER = """
import sys, time
import logger
root, rate, seconds, start_at = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
run = logger.init(project="bench", dir=root, config={"rate": rate})
while time.time() < start_at:
    time.sleep(0.005)
total = int(rate * seconds)
t0 = time.monotonic()
step = 0
while step < total:
    due = int((time.monotonic() - t0) * rate) + 1  # the steps the schedule says are due by now
    while step < min(due, total):
        run.log({"loss": 1.0 / (step + 1), "acc": step / total, "t": time.time()})
        step += 1
    time.sleep(0.002)
late = time.monotonic() - t0 - seconds
run.finish()
print(f"{late:.3f}")
"""


def cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return float("nan")


def bench(writers: int, rate: int, seconds: float, mode: str, every: float | None) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("RUNWATCH_DIR", None)
    with tempfile.TemporaryDirectory(prefix="bench-tail-") as tmp:
        root = Path(tmp) / "runs"
        root.mkdir()
        args = [sys.executable, "-m", "tui", "tail", str(root), "-m", "loss,acc,t"]
        if mode == "json":
            args.append("--json")
        if every:
            args += ["--every", str(every)]
        tail = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True, bufsize=1 << 16)
        lags: list[float] = []
        lines = [0]
        last_seen: dict[str, float] = {}
        done = threading.Event()

        def read() -> None:
            assert tail.stdout is not None
            for line in tail.stdout:
                now = time.time()
                lines[0] += 1
                if mode == "json":
                    rec = json.loads(line)
                    if rec["kind"] == "log":
                        lags.append(now - rec["values"]["t"])
                        last_seen[rec["run"]] = now
                elif " step " in line:
                    last_seen[line.split()[1]] = now
            done.set()

        threading.Thread(target=read, daemon=True).start()
        time.sleep(0.5)  # tail is up and watching
        start_at = time.time() + 1.5  # every writer imported and initialised by then
        procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(root), str(rate), str(seconds),
                                   str(start_at)], env=env, stdout=subprocess.PIPE, text=True)
                 for _ in range(writers)]
        cpu0 = cpu_seconds(tail.pid)
        late = [float(p.communicate()[0] or "nan") for p in procs]
        end = time.time()
        deadline = end + 30
        expected = writers * rate * seconds
        while time.time() < deadline:
            if mode == "json" and not every and len(lags) >= expected:
                break
            quiet = len(last_seen) >= writers and time.time() - max(last_seen.values()) > 1.5
            if (mode == "human" or every) and quiet:
                break
            time.sleep(0.05)
        caught_up = max(last_seen.values(), default=float("nan")) - end
        cpu = cpu_seconds(tail.pid) - cpu0
        tail.terminate()
        tail.wait()

    print(f"{writers} writers x {rate} steps/s for {seconds:.0f} s ({mode}"
          f"{f', --every {every}' if every else ''}): {expected:,.0f} steps written")
    print(f"  writers behind their schedule at the end: max {max(late):.3f} s")
    print(f"  tail printed {lines[0]:,} lines; its CPU: {cpu:.1f} s over {seconds + 1.5:.1f} s "
          f"({100 * cpu / (end - start_at + 1.5):.0f} % of one core)")
    if lags:
        q = statistics.quantiles(lags, n=100)
        print(f"  lag log() -> line: median {1000 * statistics.median(lags):.0f} ms, "
              f"p95 {1000 * q[94]:.0f} ms, p99 {1000 * q[98]:.0f} ms, max {1000 * max(lags):.0f} ms "
              f"({len(lags):,} log lines for {expected:,.0f} steps)")
    print(f"  last line arrived {1000 * caught_up:.0f} ms after the last write "
          "(negative: before the writers exited)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--rate", type=int, default=1000, help="steps per second per writer")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--mode", choices=("json", "human", "both"), default="both")
    parser.add_argument("--every", type=float, help="pass --every to tail")
    args = parser.parse_args()
    for mode in ("json", "human") if args.mode == "both" else (args.mode,):
        bench(args.writers, args.rate, args.seconds, mode, args.every)


if __name__ == "__main__":
    main()
