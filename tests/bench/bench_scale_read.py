"""Reading one big run back (issue 14, the reading half): figures and ratios against a floor
measured in the same run. No asserts: this prints, people judge.

    .venv/bin/python tests/bench/bench_scale_read.py [--steps 1000000] [--repeat 3] [--only tail,export]

The run (STEPS x 8 scalars) is written once with the real logger and cached under /tmp. The
floor: the segment's bytes read and every frame's payload decoded by a plain
`msgspec.msgpack.Decoder(list[AnyEvent])`, the events dropped. Times are CPU seconds (the
process's own, or the child's for the CLI), best of --repeat: on a shared machine wall time
swings 2-5x with other people's load, CPU time much less. Peak RSS is the process's (the
child's for the CLI), so each CLI figure is a separate process. The CLI children run with
their modules compiled (as an install has them: PYTHONDONTWRITEBYTECODE is dropped for them),
so startup is the interpreter and the imports, not compiling them (~0.1 s more).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fill_meter import cpu_best  # noqa: E402  (the scale benches' helpers: one copy)
from fill_meter import decode_frames as floor  # noqa: E402


def row(name: str, value: str, target: str = "") -> None:
    print(f"  {name:<46} {value:>22}   {target}")


def fixture(steps: int, vary: bool = False, nan: bool = False) -> Path:
    """ROOT/big/r1m written by the real logger, once per size (a marker says it is whole); the
    path names the writer's format ("snap": with the snapshots the reader trusts for order), so a
    run an older writer left is not measured as if the current one wrote it. The run holds 7 of
    its 8 values (metric_0 alone varies); `vary`: every value varies, floats with full mantissas
    as a training run's losses have (a random walk each), its own directory; `nan` (with vary):
    metric_0 NaN from half way on, as a diverged loss is (JSON spells it "NaN")."""
    root = Path(f"/tmp/runwatch-bench-scale-read/snap-{steps}x8" + ("-vary" if vary else "") + ("-nan" if nan else ""))
    if (root / "done").exists():
        return root
    step = ("    for name in names:\n"
            "        vals[name] += rng.random() - 0.5\n") if vary else "    vals['metric_0'] = i * 0.001\n"
    if nan:
        step += f"    if i >= {steps // 2}:\n        vals['metric_0'] = float('nan')\n"
    code = f"""
import random
import logger
run = logger.init(project="big", dir={str(root)!r}, id="r1m")
names = [f"metric_{{i}}" for i in range(8)]
vals = {{name: 0.1 * i for i, name in enumerate(names)}}
rng = random.Random(14)
for i in range({steps}):
{step}    run.log(vals)
run.finish()
"""
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
    (root / "done").write_text("ok")
    return root


def segment(root: Path) -> Path:
    return next((root / "big" / "r1m").glob("*.rws"))


def checksums(data: bytes) -> None:
    """Every frame's CRC-32 (the segment's bytes read before), as any reader checks before it
    decodes and the floor does not: what of a reader's cost over the floor is that check alone."""
    import zlib

    from logger import events as ev

    view, pos, n = memoryview(data), ev.HEADER_SIZE, len(data)
    while pos + ev.FRAME_HEAD_SIZE <= n:
        _, length, _ = ev.FRAME_HEAD.unpack_from(data, pos)
        start = pos + ev.FRAME_HEAD_SIZE
        zlib.crc32(view[start : start + length])
        pos = start + length


def scan_history(root: Path) -> None:
    from logger.history_read import HistoryScan

    for _ in HistoryScan(root / "big" / "r1m").rows():
        pass


def first_pass(root: Path) -> None:
    from logger.history_read import read_writers

    read_writers(root / "big" / "r1m")


def columns(root: Path) -> None:
    from logger.history_read import HistoryScan
    from logger.history_table import frame_columns

    for page in HistoryScan(root / "big" / "r1m").pages():
        frame_columns([page])


def frame(root: Path) -> None:
    """What history(samples=0) hands pd.DataFrame: columns from the decoded values, no rows."""
    from logger.history_read import HistoryScan
    from logger.history_table import frame

    frame(HistoryScan(root / "big" / "r1m"), 0)


def cli(args: list[str], repeat: int, more: dict[str, str] | None = None) -> tuple[float, float, float]:
    """(best child CPU seconds, its wall seconds, peak RSS MB) of `python ARGS` (`more`: its environment's extras)."""
    best = (float("inf"), 0.0, 0.0)
    env = dict(os.environ, PYTHONPATH=str(REPO), **(more or {}))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: compiled once, not at every start
    for _ in range(repeat):
        code = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
                f"subprocess.run([sys.executable, *{args!r}], stdout=subprocess.DEVNULL, check=True); "
                "w = time.perf_counter() - t; u = resource.getrusage(resource.RUSAGE_CHILDREN); "
                "print(u.ru_utime + u.ru_stime, w, u.ru_maxrss / 1024)")
        out = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.split()
        cpu, wall, rss = map(float, out)
        if cpu < best[0]:
            best = (cpu, wall, rss)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="", metavar="WORDS",
                        help="only the lines whose label holds one of these comma-separated words (the floor always)")
    args = parser.parse_args()
    only = [w for w in args.only.split(",") if w]

    def wanted(label: str) -> bool:
        return not only or any(w in label for w in only)
    root = fixture(args.steps)
    path = segment(root)
    vary = fixture(args.steps, vary=True)
    base = cpu_best(lambda: floor(path), args.repeat)
    print(f"one run, {args.steps:,} steps x 8 scalars, {path.stat().st_size / 1e6:.0f} MB "
          f"(CPU seconds, best of {args.repeat})")
    row("floor: read + msgspec decode of every frame", f"{base:.2f} s", "1.00x")
    for name, fn, target in (
        ("first pass (the snapshot, or steps only)", first_pass, ""),
        ("full scan_history (both passes, rows as dicts)", scan_history, "target <= 1.3x"),
        ("pages as columns (export input)", columns, ""),
        ("history(samples=0) columns (no row built)", frame, "(held whole: the frame's data)"),
    ):
        if not wanted(name):
            continue
        spent = cpu_best(lambda fn=fn: fn(root), args.repeat)
        row(name, f"{spent:.2f} s", f"{spent / base:.2f}x   {target}")
    if wanted("full scan_history (vary: all 8 values vary)"):  # a run like a training run's: the 7 held values above flatter the scan
        vbase = cpu_best(lambda: floor(segment(vary)), args.repeat)
        print(f"  the same run with all 8 values varying, {segment(vary).stat().st_size / 1e6:.0f} MB:")
        row("floor (vary): read + msgspec decode", f"{vbase:.2f} s", "1.00x")
        data = segment(vary).read_bytes()
        crc = cpu_best(lambda: checksums(data), args.repeat)
        del data
        row("CRC-32 of every frame (a reader checks it)", f"{crc:.2f} s", f"{crc / vbase:.2f}x   (not in the floor)")
        spent = cpu_best(lambda: scan_history(vary), args.repeat)
        row("full scan_history (vary: all 8 values vary)", f"{spent:.2f} s", f"{spent / vbase:.2f}x   target <= 1.3x")
    print("  each in a process of its own (CPU and peak RSS of that process):")
    # What Run.scan_history runs (Api().run() reads no rows: bench_scale_list.py measures it).
    scan = f"from logger.history_read import HistoryScan\nfor _ in HistoryScan({str(root / 'big' / 'r1m')!r}).rows(): pass"
    bare = "import logger, tui.cli"
    for label, argv in (
        ("python: import logger, tui.cli (the baseline)", ["-c", bare]),
        ("tail --help (the interpreter and tail's imports)", ["-m", "tui", "tail", "--help"]),
        ("scan_history's reader, every row", ["-c", scan]),
        ("tail --no-follow", ["-m", "tui", "tail", str(root), "--no-follow"]),
        ("tail --no-follow --json", ["-m", "tui", "tail", str(root), "--no-follow", "--json"]),
        ("export csv (to stdout)", ["-m", "tui", "export", "big/r1m", "--root", str(root)]),
        ("export csv (to a file)", ["-m", "tui", "export", "big/r1m", "--root", str(root), "-o",
                                    str(root.parent / f"{root.name}.csv")]),
        # show counts the damage before the run's snapshot (logger/damage.py): each time with
        # no index cache, once with it (the first of the repeats; the best is a cached one)
        ("show (no index cache: damage scanned each time)", ["-m", "tui", "show", "big/r1m", "--root", str(root)]),
        ("show (the index cache: damage scanned once)", ["-m", "tui", "show", "big/r1m", "--root", str(root)]),
    ):
        if not wanted(label):
            continue
        cpu, wall, peak = cli(argv, args.repeat, {"RUNWATCH_CACHE": "0"} if "no index cache" in label else None)
        row(label, f"{cpu:.2f} s cpu, {wall:.1f} s wall", f"{cpu / base:.2f}x, peak RSS {peak:.0f} MB")

    if wanted("NaN"):
        nan_json(args.steps, args.repeat, fixture(args.steps, vary=True))


def nan_json(steps: int, repeat: int, vary: Path) -> None:
    """JSON out of a diverged run (metric_0 NaN from half way) beside the same run without the
    NaN: what spelling NaN "NaN" costs the bulk paths (a frame holding one needs it written)."""
    nan = fixture(steps, vary=True, nan=True)
    nbase = cpu_best(lambda: floor(segment(nan)), repeat)
    print("  the all-varying run, metric_0 NaN from half way (each ratio against this floor):")
    row("floor (NaN): read + msgspec decode", f"{nbase:.2f} s", "1.00x")
    for label, root in (("tail --no-follow --json (no NaN)", vary), ("tail --no-follow --json (NaN half way)", nan),
                        ("export jsonl (no NaN)", vary), ("export jsonl (NaN half way)", nan)):
        argv = (["-m", "tui", "tail", str(root), "--no-follow", "--json"] if "tail" in label else
                ["-m", "tui", "export", "big/r1m", "--root", str(root), "-f", "jsonl"])
        cpu, wall, peak = cli(argv, repeat)
        row(label, f"{cpu:.2f} s cpu, {wall:.1f} s wall", f"{cpu / nbase:.2f}x, peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
