"""The app at scale (issue 14): memory bounded by the screen, every row cheap, idle CPU.

    .venv/bin/python tests/bench/bench_scale_app.py                  # everything
    .venv/bin/python tests/bench/bench_scale_app.py load rows         # some sections

Each figure is measured twice in the same run, in fresh child processes: the app as it is
(decimations, no histories) and a baseline of the same app keeping every run's full history
(as before issue 14), and printed with their ratio. Sizes are reduced from the issue's
(flags below) so that a loaded 2-core machine finishes in minutes; memory above the app's
fixed ~70 MB scales with runs x keys, not with steps (extrapolate the baseline linearly).

Sections:
  load     20 runs x --steps x 8 metrics loaded (Pilot): time, resident and peak memory,
           with the writer's snapshots and without; the filler's CPU against a plain
           msgspec decode of the same frames (--profile: its cProfile)
  rows     --runs runs x 100 steps x 4: every row in the table (summaries, states), then
           every history decimated (sparklines); cold and warm index cache; time and memory
  reopen   1,000 runs x 1,000 steps x 4, reopened unchanged: App() to the first screenful
           drawn with its data whole (every row's sparklines, the chart panel's series);
           the best of --repeat children
  idle     the app in tmux over --idle seconds: finished runs and one running, silent run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_tui import make_root  # noqa: E402  (the same generated roots, cached)
from fill_meter import FillMeter, floor  # noqa: E402
from idle_meter import Idle, floor_cmd, measure, silent_run, threads_text  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "runwatch-bench-scale"
WHOLE_PAINT = 0.2  # seconds a chart has to paint data found whole before it counts as painted


def row(name: str, new: str, old: str = "", ratio: str = "", target: str = "") -> None:
    print(f"  {name:<44} {new:>14} {old:>14} {ratio:>8}   {target}", flush=True)


def status_mb(field: str, pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def baseline() -> None:
    """The app as before issue 14: the reader keeps every run's full history, and there is
    no reopen cache (with one it restored the new app's decimations: a "load" in 0.4 s)."""
    import tui.model.store as store

    os.environ["RUNWATCH_CACHE"] = "0"
    from tui.follow import Follower

    store.Follower = lambda root, force_polling=None, **_: Follower(  # type: ignore[misc]
        root, force_polling=force_polling)


# -- children ---------------------------------------------------------------------------------
def _whole(screen: Any, steps: int) -> bool:
    """The first screenful's rows hold every step, and the chart panel drew them."""
    from tui.widgets.chart_panel import ChartPanel

    views = [r.run for r in screen.model.rows[:40] if r.run is not None]
    if not views or any(v.step != steps - 1 for v in views):
        return False
    panel = screen.query_one(ChartPanel)
    return bool(panel.draws) and panel.up_to_date()


async def _app(root: Path, runs: int, until: str, steps: int = 0,
               out: dict[str, float] | None = None) -> dict[str, float]:
    """Measure one App; the figures also go to `out` (an app closing while its reader still
    posts may raise on the way out, after they were taken)."""
    out = {} if out is None else out
    from tui.app import RunwatchApp
    from tui.screens.main import MainScreen
    from tui.widgets.chart import Chart
    from tui.widgets.run_table import RunTable

    marks: dict[str, float] = {}

    def marking(cls: Any, name: str) -> None:
        original = getattr(cls, name)

        def paint(self, *args):  # type: ignore[no-untyped-def]
            out = original(self, *args)
            screen = self.screen
            if isinstance(screen, MainScreen) and screen.model.rows:
                marks["painted"] = time.perf_counter()
                if "first" not in marks and (until != "whole" or _whole(screen, steps)):
                    marks["first"], marks["cpu"] = time.perf_counter(), time.process_time()
            return out

        setattr(cls, name, paint)

    # Whole data: checked as a chart paints and every 5 ms below (not at each table line:
    # the check would cost more than what it measures).
    if until == "whole":
        marking(Chart, "render")
    else:
        marking(RunTable, "render_line")
    t0, c0 = time.perf_counter(), time.process_time()
    app = RunwatchApp(root)
    # Polled with asyncio.sleep, not pilot.pause: a pause posts a callback to every widget
    # and waits for them all: polled every 5 ms it was a good part of the app's CPU measured.
    async with app.run_test(size=(120, 40)) as pilot:
        while not isinstance(app.screen, MainScreen) or "first" not in marks:
            await asyncio.sleep(0.005)
            if until == "whole" and isinstance(app.screen, MainScreen) and app.screen.model.rows \
                    and "first" not in marks and _whole(app.screen, steps):
                # Whole: the chart paints it next (marked there); if no paint comes in
                # WHOLE_PAINT, it was painted already (equal data paints nothing again).
                seen = marks.setdefault("whole", time.perf_counter())
                marks.setdefault("whole_cpu", time.process_time())
                if time.perf_counter() - seen > WHOLE_PAINT:
                    marks["first"], marks["cpu"] = seen, marks["whole_cpu"]
        screen, store = app.screen, app.screen.store
        if until in ("first", "whole"):
            out.update(seconds=marks["first"] - t0, cpu=marks["cpu"] - c0, rss=status_mb("VmRSS"),
                       restored=store.cache.restored)
            return out
        if until == "saved":  # the reopen cache written (tui/model/decim_cache.py)
            while len(store.cache.saved_versions) < runs:
                await asyncio.sleep(0.05)
            out.update(seconds=time.perf_counter() - t0)
            return out
        out.update(first=marks["first"] - t0, rss_first=status_mb("VmRSS"),
                   from_rows=len(store.ghosts))
        # Every row: each run in the table with its summary and state as a full read gives
        # them (the store read every byte on disk at start into its digests), painted after.
        while len(screen.model.views) < runs or not store.loaded:
            await asyncio.sleep(0.005)
        applied = time.perf_counter()
        screen.query_one(RunTable).refresh()  # a paint after it (conservative: one frame late)
        while marks["painted"] < applied:
            await asyncio.sleep(0.005)
        out.update(rows=marks["painted"] - t0, cpu_rows=time.process_time() - c0,
                   rss_rows=status_mb("VmRSS"))
        # Every history in the decimations (sparklines, charts): filled in afterwards.
        while not store.filled:
            await asyncio.sleep(0.02)
        out.update(histories=time.perf_counter() - t0, cpu=time.process_time() - c0)
        await pilot.pause(0.5)
        out.update(rss=status_mb("VmRSS"), peak=status_mb("VmHWM"))
        # The rows a reopen shows first are saved after the app's cache (seconds at 10k
        # runs): the next child measures a reopen only once they are there (written by this
        # child, or found as they were; one another code wrote is stale).
        from tui.model.row_cache import rows_path

        rows = rows_path(store._follower.reader.root)
        for _ in range(1200):
            if rows is None or store._ghosts.saved:
                break
            await asyncio.sleep(0.05)
    return out


def child(args: argparse.Namespace) -> None:
    from tui.app import tune_gc

    tune_gc()
    if args.old:
        baseline()
    out: dict[str, float] = {}
    meter = FillMeter(args.profile)  # the load's filler against the msgspec floor
    meter.install()

    async def measure() -> None:
        await _app(Path(args.root), args.runs, args.child, args.steps, out)

    try:
        asyncio.run(measure())
    except Exception:  # noqa: BLE001 - an exit while the reader still posts: measured already
        if not out:
            raise
    if args.child == "loaded":
        out.update(fill_cpu=meter.cpu, fill_bytes=meter.bytes, floor=floor(Path(args.root)))
        print(meter.report())
    print("RESULT " + json.dumps(out))


def run_child(*argv: str, env: dict[str, str] | None = None,
              show: bool = False) -> dict[str, float]:
    proc = subprocess.run([sys.executable, __file__, "--child", *argv], capture_output=True,
                          text=True, timeout=1800, cwd=REPO, env={**os.environ, **(env or {})})
    if show:  # what the child printed (a profile)
        print("\n".join(line for line in proc.stdout.splitlines() if not line.startswith("RESULT ")))
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])  # type: ignore[no-any-return]
    raise RuntimeError(proc.stdout[-2000:] + proc.stderr[-3000:])


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


# -- sections ---------------------------------------------------------------------------------
def section_load(args: argparse.Namespace) -> None:
    print(f"20 runs x {args.steps:,} steps x 8 metrics, every history loaded, cold (no index "
          "nor reopen cache)   (new / baseline)")
    for snapshots, what in ((True, "with the writer's snapshots (what the logger writes)"),
                            (False, "without snapshots (files written before them)")):
        print(f" {what}")
        _load(args, make_root(20, args.steps, 8, snapshots=snapshots))


def _load(args: argparse.Namespace, root: Path) -> None:
    cold = Path(tempfile.mkdtemp(prefix="rw-bench-xdg-"))
    argv = ("loaded", "--root", str(root), "--runs", "20")
    try:  # a cache a former run left would be restored: loaded in a fraction of a second
        new = run_child(*argv, *(("--profile",) if args.profile else ()),
                        env={"XDG_CACHE_HOME": str(cold)}, show=args.profile)
    finally:
        shutil.rmtree(cold, ignore_errors=True)
    old = run_child(*argv, "--old")
    row("first screenful", f"{new['first']:.2f} s", f"{old['first']:.2f} s",
        _ratio(new["first"], old["first"]))
    row("every row", f"{new['rows']:.2f} s", f"{old['rows']:.2f} s", _ratio(new["rows"], old["rows"]))
    row("loading time (every history)", f"{new['histories']:.1f} s", f"{old['histories']:.1f} s",
        _ratio(new["histories"], old["histories"]))
    row("  CPU time of the app", f"{new['cpu']:.1f} s", f"{old['cpu']:.1f} s",
        _ratio(new["cpu"], old["cpu"]))
    row("resident once loaded", f"{new['rss']:.0f} MB", f"{old['rss']:.0f} MB",
        _ratio(new["rss"], old["rss"]), "<= 150 MB at 100k steps")
    row("peak resident", f"{new['peak']:.0f} MB", f"{old['peak']:.0f} MB",
        _ratio(new["peak"], old["peak"]), "<= 150 MB at 100k steps")
    row(f"  filler CPU ({new['fill_bytes'] / 1e6:.0f} MB read back) / msgspec floor",
        f"{new['fill_cpu']:.2f} s", f"{new['floor']:.2f} s", _ratio(new["fill_cpu"], new["floor"]),
        "(floor: every frame decoded)")


def section_rows(args: argparse.Namespace) -> None:
    print(f"{args.runs:,} runs x 100 steps x 4 metrics: App() to every row in the table (each "
          "run's name, state and summary as a full read gives them, painted); sparklines "
          "fill in after, with the histories")
    root = make_root(args.runs, 100, 4)
    cache, pages = (Path(tempfile.mkdtemp(prefix="rw-bench-xdg-")) for _ in range(2))
    try:
        argv = ("rows", "--root", str(root), "--runs", str(args.runs))
        run_child(*argv, env={"XDG_CACHE_HOME": str(pages)})  # the page cache warm, as for every figure below
        cold = run_child(*argv, env={"XDG_CACHE_HOME": str(cache)})  # no index cache: every segment decoded once
        warm = run_child(*argv, env={"XDG_CACHE_HOME": str(cache)})  # the index cache the cold open left
        old = run_child(*argv, "--old")
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(pages, ignore_errors=True)
    row("", "cold", "warm", "", "(index cache)")
    row("runs listed from cached rows (no RunData)", f"{cold['from_rows']:.0f}",
        f"{warm['from_rows']:.0f}")
    for name, key, target in (("first screenful painted", "first", ""),
                              ("every row painted", "rows", "<= 1 s (10,000 runs)"),
                              ("  CPU time of the app until then", "cpu_rows", ""),
                              ("every history decimated", "histories", "")):
        row(name, f"{cold[key]:.2f} s", f"{warm[key]:.2f} s", "", target)
        row("  baseline (every history kept)", f"{old[key]:.2f} s", "", _ratio(warm[key], old[key]))
    for name, key in (("resident at every row", "rss_rows"), ("resident, histories in", "rss"),
                      ("peak resident", "peak")):
        row(name, f"{cold[key]:.0f} MB", f"{warm[key]:.0f} MB", "", "<= 400 MB (10,000 runs)")
        row("  baseline", f"{old[key]:.0f} MB", "", _ratio(warm[key], old[key]))


def _best(until: str, argv: tuple[str, ...], env: dict[str, str], n: int) -> dict[str, float]:
    """The least of each figure over `n` children (a shared machine only ever adds time)."""
    found = [run_child(until, *argv, env=env) for _ in range(max(1, n))]
    return {key: min(r[key] for r in found) for key in found[0]}


def section_reopen(args: argparse.Namespace) -> None:
    print("1,000 runs x 1,000 steps x 4 metrics reopened unchanged: App() to the first "
          f"screenful   (cache / RUNWATCH_CACHE=0; the best of {args.repeat})")
    root = make_root(1000, 1000, 4)
    # The bench's own cache home, never the user's, one per checkout (another one's code
    # makes the file stale: each would rebuild it for the other). Kept between runs of the
    # bench: any change to the code makes it stale, and the next open rebuilds it.
    xdg = CACHE / f"xdg-reopen-{REPO.name}"
    on, off = {"XDG_CACHE_HOME": str(xdg)}, {"XDG_CACHE_HOME": str(xdg), "RUNWATCH_CACHE": "0"}
    argv = ("--root", str(root), "--runs", "1000", "--steps", "1000")
    cold = run_child("saved", *argv, env=on)  # a first open reads every byte, writes the cache
    row("open until the cache is written (or found)", f"{cold['seconds']:.1f} s")
    for until, what in (("first", "first rows drawn"), ("whole", "whole data drawn, charts too")):
        new, old = _best(until, argv, on, args.repeat), _best(until, argv, off, args.repeat)
        row(what, f"{new['seconds']:.2f} s", f"{old['seconds']:.2f} s",
            _ratio(new["seconds"], old["seconds"]), "<= 0.3 s" if until == "whole" else "")
        row("  CPU time of the app until then", f"{new['cpu']:.2f} s", f"{old['cpu']:.2f} s",
            _ratio(new["cpu"], old["cpu"]), "(what a loaded machine does not blur)")
    row("  runs restored from the cache", f"{new['restored']:.0f}", f"{old['restored']:.0f}")


def _app_cmd(root: Path, old: bool) -> str:
    setup = "import bench_scale_app as b; b.baseline(); " if old else ""
    return (f"exec {sys.executable} -c 'import sys; sys.path.insert(0, \"tests/bench\"); {setup}"
            f"from tui.app import run_app; sys.exit(run_app(sys.argv[1]))' {root}")


def _idle(root: Path, seconds: float, old: bool) -> Idle:
    with silent_run(root, seconds + 30):
        return measure(_app_cmd(root, old), seconds)


def section_idle(args: argparse.Namespace) -> None:
    print(f"idle CPU, % of one core over {args.idle:.0f} s (tmux 120x40; 20 finished runs, "
          "one running and silent); the main thread's share after the slash; wakeups a second")
    if shutil.which("tmux") is None:
        row("tmux not installed", "skipped")
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="idle-", dir=CACHE))  # this bench's own: others may run
    try:
        root = work / "runs"
        shutil.copytree(make_root(20, 1000, 4), root)
        new, old = _idle(root, args.idle, False), _idle(root, args.idle, True)
        row("idle", f"{new.cpu:.2f}/{new.main:.2f} %", f"{old.cpu:.2f}/{old.main:.2f} %",
            _ratio(new.cpu, old.cpu), "<= 0.5 % (aim 0.4)")
        row("  wakeups a second", f"{new.wakeups:.1f}", f"{old.wakeups:.1f}", "",
            "floor: 10 (Textual's input)")
        print(f"  threads, % of a core: {threads_text(new)}")
        for tick, what in ((False, "floor: a bare Textual DataTable, still"),
                           (True, "floor: the same, one cell updated each second")):
            try:
                floor = measure(floor_cmd(work, 21, tick), args.idle)
            except RuntimeError as exc:  # the app's figures above stand
                row(what, "not measured", "", "", str(exc)[-60:])
                continue
            row(what, f"{floor.cpu:.2f}/{floor.main:.2f} %, {floor.wakeups:.1f}/s", "",
                _ratio(new.cpu, floor.cpu), "(app / floor)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


SECTIONS = {"load": section_load, "rows": section_rows, "reopen": section_reopen,
            "idle": section_idle}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sections", nargs="*", default=list(SECTIONS))
    parser.add_argument("--child")
    parser.add_argument("--root")
    parser.add_argument("--old", action="store_true")
    parser.add_argument("--runs", type=int, default=10000)
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--idle", type=float, default=60)
    parser.add_argument("--repeat", type=int, default=3, help="reopen: children per figure")
    parser.add_argument("--profile", action="store_true", help="load: cProfile the filler")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    print(f"runwatch app at scale ({os.cpu_count()} cores, Python {sys.version.split()[0]})")
    row("", "new", "baseline", "ratio", "target")
    for name in args.sections:
        SECTIONS[name](args)


if __name__ == "__main__":
    main()
