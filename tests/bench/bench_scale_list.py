"""Listing at scale: meta mode (snapshots) against the floor, decoding every frame once.

    python tests/bench/bench_scale_list.py [RUNS] [STEPS] [BIG_STEPS]

Fixtures are built once with the real logger and cached under /tmp. Each figure is printed
against the floor measured in the same run; nothing here asserts a wall-clock time.

A measure is timed in a fresh process after its imports: the scan (the index cache's load,
code stamp included, the directory walk, every stat, the restores) and each run's summary
(with the collector's first pass over what the scan built). `runwatch ls` end to end adds
the interpreter, the imports and the table.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHILD = """
import sys, time, resource
sys.path.insert(0, {repo!r})
from logger import events as ev
from logger.reader import RootReader, segment_files
import logger
from logger.api import Api
root, what = sys.argv[1], sys.argv[2]
t0, c0 = time.perf_counter(), time.process_time()
if what == "floor":
    import os
    for project in os.scandir(root):
        if not project.is_dir():
            continue
        for run in os.scandir(project.path):
            for seg in segment_files(run.path):
                ev.scan_frames(seg.read_bytes(), ev.HEADER_SIZE)
elif what == "api":
    runs = Api(root).runs()
    runs[0].summary
elif what == "api-run":  # W&B's other way in: one run by its path
    import os
    project = next(p for p in os.listdir(root) if not p.startswith("."))
    Api(root).run(project + "/" + next(r for r in os.listdir(os.path.join(root, project)) if not r.startswith("."))).summary
else:
    reader = RootReader(root, meta=(what == "meta"))
    reader.scan()
    for r in reader.runs.values():
        r.summary_flat()
dt = time.perf_counter() - t0
print(dt, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, time.process_time() - c0)
"""


def build(root: Path, runs: int, steps: int, keys: int) -> None:
    if (root / ".done").exists():
        return
    code = (f"import sys; sys.path.insert(0, {str(REPO)!r}); import logger\n"
            f"for r in range({runs}):\n"
            f"    run = logger.init(project='p', dir={str(root)!r})\n"
            f"    for i in range({steps}):\n"
            f"        run.log({{f'k{{j}}': i * 0.5 + j for j in range({keys})}})\n"
            f"    run.finish()\n")
    subprocess.run([sys.executable, "-c", code], check=True)
    (root / ".done").write_text("")


def _env(cache: str | None) -> dict[str, str]:
    return dict(os.environ, RUNWATCH_CACHE="0" if cache is None else "1", XDG_CACHE_HOME=cache or "/nonexistent")


def measure(root: Path, what: str, cache: str | None = None, cpu: list[float] | None = None) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one measure, in a fresh process; `cache`: an XDG cache
    directory for the index (None: the index cache off). `cpu` gets its CPU seconds: on a
    shared machine they say more than the wall clock."""
    out = subprocess.run([sys.executable, "-c", CHILD.format(repo=str(REPO)), str(root), what],
                         check=True, capture_output=True, text=True, env=_env(cache)).stdout.split()
    if cpu is not None:
        cpu.append(float(out[2]))
    return float(out[0]), float(out[1])


def second_open(root: Path, cache: str, times: int = 5) -> tuple[float, float, float]:
    """The best of `times` second opens (wall s, CPU s, MB): the machine's noise only adds."""
    runs = []
    for _ in range(times):
        cpu: list[float] = []
        dt, mb = measure(root, "meta", cache, cpu)
        runs.append((dt, cpu[0], mb))
    return min(runs)


def ls_end_to_end(root: Path, cache: str, times: int = 3) -> tuple[float, float]:
    """`runwatch ls ROOT` as a user runs it (interpreter, imports, listing, table): the best
    wall and user+sys CPU seconds of `times` runs."""
    exe = Path(sys.executable).with_name("runwatch")
    env = _env(cache)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: compiled once, not at every start
    best = (float("inf"), float("inf"))
    for i in range(times + 1):  # the first writes the bytecode
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([str(exe), "ls", str(root)], check=True, capture_output=True, env=env)
        dt = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        best = min(best, (dt, cpu)) if i else best
    return best


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    big = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
    many = Path(f"/tmp/runwatch-bench-list-{runs}x{steps}")
    one = Path(f"/tmp/runwatch-bench-one-{big}x8")
    build(many, runs, steps, 4)
    build(one, 1, big, 8)
    floor, floor_mb = measure(many, "floor")
    print(f"{runs} runs x {steps} steps x 4: floor (decode every frame once) {floor:.3f} s, {floor_mb:.0f} MB")
    dt, mb = measure(many, "meta")
    print(f"  list + summaries, cold (no cache): {dt:.3f} s = {dt / floor:.2f} x floor, peak {mb:.0f} MB"
          "  (target <= 0.3 x, <= 100 MB)")
    with tempfile.TemporaryDirectory() as cache:
        dt, mb = measure(many, "meta", cache)
        print(f"  list + summaries, cold, writing the cache: {dt:.3f} s = {dt / floor:.2f} x floor, {mb:.0f} MB")
        dt, cpu, mb = second_open(many, cache)
        print(f"  list + summaries, second open with the cache: {dt:.3f} s ({cpu:.3f} s CPU), {mb:.0f} MB"
              "  (target <= 0.1 s; best of 5)")
        if Path(sys.executable).with_name("runwatch").exists():
            dt, cpu = ls_end_to_end(many, cache)
            print(f"  `runwatch ls` end to end, cache warm: {dt:.3f} s ({cpu:.3f} s CPU: interpreter, imports,"
                  " listing, table; best of 3)")
    dt, mb = measure(many, "full")
    print(f"  list + summaries, full read (before): {dt:.3f} s = {dt / floor:.2f} x floor, peak {mb:.0f} MB")
    dt, mb = measure(one, "api")
    print(f"Api().runs() of 1 run x {big} steps x 8, first summary: {dt:.3f} s, peak {mb:.0f} MB"
          "  (target <= 0.1 s, <= 50 MB)")
    dt, mb = measure(one, "api-run")
    print(f"Api().run(path) of it, its summary: {dt:.3f} s, peak {mb:.0f} MB  (as runs(): <= 0.1 s, <= 50 MB)")


if __name__ == "__main__":
    main()
