"""System sampler and console capture: what they cost the training process, as figures and
ratios against baselines measured in the same run.

    .venv/bin/python tests/bench/bench_system.py [--lines 200000]

Targets (issue 12): the sampler well under 1 % of a core at the default interval; console
capture's cost per written line; log() unchanged with both on. No asserts: people judge.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import logger  # noqa: E402
from logger.system import DEFAULT_INTERVAL, SystemSampler  # noqa: E402

VALUES = {f"metric_{i}": 0.1 * i for i in range(8)}


def row(name: str, value: str, target: str = "") -> None:
    print(f"  {name:<50} {value:>18}   {target}")


def bench_sample_cost(samples: int) -> float:
    """CPU seconds per sample, measured on the sampler thread itself (thread_time)."""
    sampler = SystemSampler(lambda e: None, time.time, 0.02, lambda text, loud: None)
    sampler.start()
    while sampler.samples < samples:
        time.sleep(0.05)
    sampler.stop()
    per = sampler.cpu_seconds / sampler.samples
    procs = len(os.listdir("/proc")) if os.path.isdir("/proc") else 0
    row("one sample (psutil, NVML where present)", f"{per * 1e3:.2f} ms CPU",
        f"{samples} samples, ~{procs} /proc entries")
    for interval in (1.0, 5.0, DEFAULT_INTERVAL, 15.0):
        mark = " (default)" if interval == DEFAULT_INTERVAL else " (W&B)" if interval == 15 else ""
        row(f"  CPU share at {interval:g} s{mark}", f"{100 * per / interval:.4f} %", "target < 1 %")
    return per


TRAIN = """
import os, sys, time
import logger
logger.init(project="b", dir=sys.argv[1], console=sys.argv[2],
            settings=logger.Settings(x_stats_sampling_interval=float(sys.argv[3])))
end = time.monotonic() + float(sys.argv[4])
while time.monotonic() < end:
    logger.log({"loss": 0.1})
    time.sleep(0.01)          # a training step that waits on the GPU
logger.finish()
t = os.times()
print(t.user + t.system)
"""


def _child_cpu(root: Path, console: str, interval: float, seconds: float) -> float:
    script = root / "train.py"
    script.write_text(textwrap.dedent(TRAIN))
    out = subprocess.run([sys.executable, str(script), str(root), console, str(interval), str(seconds)],
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
                         check=True)
    return float(out.stdout.split()[-1])


def bench_process_share(root: Path, seconds: float) -> None:
    """A whole training process, sampler at 1 s (to see it in a short run) vs off."""
    off = min(_child_cpu(root, "off", 0, seconds) for _ in range(2))
    on = min(_child_cpu(root, "off", 1.0, seconds) for _ in range(2))
    extra = (on - off) / seconds
    row(f"training process, {seconds:g} s, sampler at 1 s vs off", f"{on:.3f} / {off:.3f} s CPU",
        f"ratio {on / off:.3f}")
    row("  extra CPU share at 1 s (with psutil's import)", f"{100 * extra:.3f} %",
        f"{1e3 * (on - off):.0f} ms over {seconds:g} samples")


PRINTER = """
import os, sys, time
import logger
logger.init(project="b", dir=sys.argv[1], console=sys.argv[2], settings={"x_disable_stats": True})
for i in range(int(sys.argv[3])):
    print(f"epoch {i} loss 0.123456 acc 0.987654 lr 0.001")
logger.finish()
"""


def bench_console(root: Path, lines: int) -> None:
    """CPU per printed line (the script and its capture thread together), stdout to /dev/null."""
    script = root / "printer.py"
    script.write_text(textwrap.dedent(PRINTER))
    costs = {}
    for mode in ("off", "wrap", "redirect"):
        best = float("inf")
        for _ in range(3):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run([sys.executable, str(script), str(root), mode, str(lines)], check=True,
                           stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(REPO)})
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            best = min(best, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        costs[mode] = best
    for mode in ("wrap", "redirect"):
        per = (costs[mode] - costs["off"]) / lines
        row(f"console={mode}: extra CPU per printed line", f"{per * 1e6:.2f} µs",
            f"ratio {costs[mode] / costs['off']:.2f} ({lines} lines)")


def bench_log(root: Path, steps: int) -> None:
    """log() in this process with capture off, then with console and sampler on."""

    def timed(console: str, interval: float) -> float:
        run = logger.init(project="b", dir=root, reinit=True, console=console,
                          settings={"x_stats_sampling_interval": interval})
        best = float("inf")
        for _ in range(5):
            t = time.perf_counter()
            for _ in range(steps):
                run.log(VALUES)
            best = min(best, (time.perf_counter() - t) / steps)
        run.finish()
        return best

    timed("off", 0)  # warm up
    offs, ons = [], []
    for _ in range(4):  # interleaved: load on a shared machine hits both alike
        offs.append(timed("off", 0))
        ons.append(timed("redirect", 0.5))
    off, on = min(offs), min(ons)
    row("log() with console + sampler on vs off", f"{on * 1e6:.2f} / {off * 1e6:.2f} µs",
        f"ratio {on / off:.2f} (target ~1)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--steps", type=int, default=100_000)
    args = parser.parse_args()
    print(f"bench_system: python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bench_sample_cost(args.samples)
        bench_process_share(root, args.seconds)
        bench_console(root, args.lines)
        bench_log(root, args.steps)


if __name__ == "__main__":
    main()
