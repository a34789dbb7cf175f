"""TUI benchmarks (issue 3). Prints figures next to the targets; asserts nothing.

    .venv/bin/python tests/bench/bench_tui.py                 # everything (several minutes)
    .venv/bin/python tests/bench/bench_tui.py paint group     # some sections

Sections:
  paint    first paint of the table (first screenful) and the whole table filled, for
           1,000 runs x 1,000 steps x 4 metrics and for 10,000 runs; memory once loaded
  cold     the same from a cold `python` start in a real terminal (tmux), imports included
  group    a group of 1,000 runs drawn as mean +- std: time and memory
  latency  log() in another process to the step being painted in the table, p50/p95
  cpu      the app in tmux: idle; following one live run; 20 runs each at 100 steps/s

Data is generated once under $TMPDIR/runwatch-bench (header, segment start, run start,
then frames of 10 steps, as the writer's 100 ms flusher lays them out, with the writer's
snapshots: `make_root`; its `snapshots=False` roots are files written before them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from logger import events as ev  # noqa: E402
from logger.snapshot import SNAPSHOT_EVERY, KeyStat, Tracker  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "runwatch-bench"
HERTZ = os.sysconf("SC_CLK_TCK")


def row(name: str, value: str, target: str = "") -> None:
    print(f"  {name:<52} {value:>16}   {target}", flush=True)


# -- data ------------------------------------------------------------------------------------
def make_root(runs: int, steps: int, metrics: int = 4, snapshots: bool = True) -> Path:
    """ROOT/bench/<run>/ of `runs` finished runs, each `steps` rows of `metrics` floats in
    frames of 10 rows (the writer's 100 ms flusher). With `snapshots` (what the logger
    writes) a Snapshot frame every SNAPSHOT_EVERY bytes and a last one after the finish,
    made by the writer's own Tracker (logger/snapshot.py); without, files as written before
    snapshots existed. Cached per shape; names without "-snap" mean no snapshots (shared by
    older benches)."""
    shape = f"{runs}x{steps}" + (f"x{metrics}" if metrics != 4 else "")
    root = CACHE / (shape + ("-snap" if snapshots else ""))
    if (root / ".done").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    t_start = time.perf_counter()
    rng = random.Random(0)
    for i in range(runs):
        run_id = f"r{i:05d}"
        run_dir = root / "bench" / run_id
        run_dir.mkdir(parents=True)
        data = _segment(run_id, i, steps, metrics, rng, snapshots)
        (run_dir / f"20240101T000000-script-1-{run_id}.rws").write_bytes(data)
    (root / ".done").write_text("")
    size = sum(p.stat().st_size for p in root.rglob("*.rws"))
    print(f"  (generated {root}: {size / 1e6:.0f} MB in {time.perf_counter() - t_start:.0f} s)")
    return root


def _segment(run_id: str, i: int, steps: int, metrics: int, rng: random.Random,
             snapshots: bool) -> bytes:
    """One run's segment: header, segment start, run start, rows, (snapshots,) finish."""
    t0 = 1_700_000_000.0 + i * 10
    seen = Tracker()  # the writer's: counts what the frames hold, makes the Snapshot frame
    data = bytearray(ev.HEADER)
    data += ev.encode(ev.SegmentStart(version=ev.FORMAT_VERSION, run_id=run_id, role="script",
                                      host="bench-host", pid=0, proc_start=0, boot_id="b",
                                      time=t0))

    def add(chunks: list[bytes]) -> None:  # as the writer's framer (logger/framing.py)
        seen.note(chunks)
        framed = ev.frames_from(chunks)
        data.extend(framed)
        seen.since += len(framed)

    def snapshot(values: dict[str, float]) -> None:
        seen.since = 0
        # The run's stats for plain keys (logger/run_extras.py _snapshot_stats): last values.
        frame = seen.snapshot({k: KeyStat(last=v, numeric=True, agg=False)
                               for k, v in values.items()})
        assert frame is not None
        data.extend(frame)

    add([ev.encode_event(ev.RunStart(
        project="bench", name=f"run-{i}", notes=None, tags=["bench"], group=None,
        job_type=None, config={"lr": 1e-3, "batch_size": 64, "seed": i, "model": "mlp"},
        command=["train.py"], python="3.11", cwd="/", git_commit=None, git_branch=None,
        resumed=False, time=t0))])
    speed = rng.uniform(100, 400)
    batch: list[bytes] = []
    values: dict[str, float] = {}
    for s in range(steps):
        base = 1.0 / (1 + s / speed)
        values = {f"m{k}": base * (k + 1) + rng.random() * 0.01 for k in range(metrics)}
        batch.append(ev.encode_event(ev.Log(step=s, time=t0 + s * 0.1, values=values)))
        if len(batch) == 10 or s == steps - 1:
            add(batch)
            batch = []
            if snapshots and seen.since >= SNAPSHOT_EVERY:
                snapshot(values)
    add([ev.encode_event(ev.Finish(time=t0 + steps * 0.1, exit_code=0, state="finished",
                                   error=None))])
    if snapshots:  # finish() asks for one; the framer writes it after the Finish it drained
        snapshot(values)
    return bytes(data)


def rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HERTZ  # utime + stime


# -- measurements run in a child process (each one starts clean) ------------------------------
async def _paint(root: Path, runs: int) -> dict[str, float]:
    from tui.app import RunwatchApp
    from tui.screens.main import MainScreen
    from tui.widgets.run_table import RunTable

    marks: dict[str, float] = {}
    original = RunTable.render_line

    def render_line(self, y):  # type: ignore[no-untyped-def]
        strip = original(self, y)
        if y > 0 and self.model.rows and "first" not in marks:
            marks["first"] = time.perf_counter()
        return strip

    RunTable.render_line = render_line  # type: ignore[method-assign]
    t0 = time.perf_counter()
    app = RunwatchApp(root)
    async with app.run_test(size=(120, 40)) as pilot:
        while not isinstance(app.screen, MainScreen) or "first" not in marks:
            await pilot.pause(0.005)
        screen = app.screen
        while len(screen.model.views) < runs:
            await pilot.pause(0.01)
        marks["filled"] = time.perf_counter()  # the model has every row; painted next frame
        rss_filled = rss_mb()
        deadline = time.perf_counter() + 300
        while not screen.store.loaded and time.perf_counter() < deadline:
            await pilot.pause(0.05)
        marks["loaded"] = time.perf_counter()
        await pilot.pause(0.5)
        return {"first": marks["first"] - t0, "filled": marks["filled"] - t0,
                "loaded": marks["loaded"] - t0, "rss_filled": rss_filled, "rss_loaded": rss_mb()}


async def _group(root: Path, runs: int) -> dict[str, float]:
    from tui.app import RunwatchApp
    from tui.model.table_model import ALL_BUT_SEED
    from tui.screens.detail import DetailScreen
    from tui.screens.main import MainScreen
    from tui.widgets.chart import Chart

    app = RunwatchApp(root)
    async with app.run_test(size=(160, 50)) as pilot:
        while not isinstance(app.screen, MainScreen):
            await pilot.pause(0.01)
        screen = app.screen
        while not screen.store.loaded or len(screen.model.views) < runs:
            await pilot.pause(0.05)
        screen.model.group_keys = ALL_BUT_SEED
        screen.refresh_table()
        await pilot.pause(0.3)
        before = rss_mb()
        t0 = time.perf_counter()
        await pilot.press("enter")
        while not isinstance(app.screen, DetailScreen):
            await pilot.pause(0.005)
        detail = app.screen
        charts = [c for c in detail.query(Chart) if c.display]
        while not all(c.plot is not None and c.plot.lines and c.builds for c in charts):
            await pilot.pause(0.005)
        elapsed = time.perf_counter() - t0
        n = len(detail.paths)
        build_ms = max(c.last_build_ms for c in charts)
        return {"seconds": elapsed, "runs": n, "charts": len(charts), "rss_before": before,
                "rss_after": rss_mb(), "build_ms": build_ms}


async def _latency(root: Path, seconds: float, rate: float) -> dict[str, object]:
    from logger.reader import RootReader
    from tui.app import RunwatchApp
    from tui.screens.main import MainScreen

    shown: list[tuple[float, int]] = []
    app = RunwatchApp(root)
    script = root.parent / "latency_train.py"
    script.write_text(textwrap.dedent(f"""
        import time, logger
        run = logger.init(project="lat", name="lat", dir={str(root)!r})
        end = time.time() + {seconds}
        step = 0
        while time.time() < end:
            run.log({{"loss": 1.0 / (step + 1)}})
            step += 1
            time.sleep({1.0 / rate})
        run.finish()
    """))
    async with app.run_test(size=(120, 30)) as pilot:
        while not isinstance(app.screen, MainScreen):
            await pilot.pause(0.01)
        screen = app.screen
        original = screen._apply

        def apply() -> None:
            original()
            views = [v for v in screen.model.views.values() if v.name == "lat"]
            if views and views[0].step is not None:
                step = views[0].step
                screen.call_after_refresh(lambda: shown.append((time.time(), step)))

        screen._apply = apply  # type: ignore[method-assign]
        proc = subprocess.Popen([sys.executable, str(script)],
                                env={**os.environ, "PYTHONPATH": str(REPO)})
        while proc.poll() is None:
            await pilot.pause(0.05)
        await pilot.pause(1.0)
    reader = RootReader(root)
    reader.scan()
    run = next(iter(reader.runs.values()))
    times = dict(zip(run.history.steps, run.history.times))
    latencies = []
    j = 0
    for step in sorted(times):
        while j < len(shown) and shown[j][1] < step:
            j += 1
        if j < len(shown):
            latencies.append((shown[j][0] - times[step]) * 1000)
    latencies.sort()
    return {"n": len(latencies), "p50": statistics.median(latencies),
            "p95": latencies[int(0.95 * (len(latencies) - 1))], "max": latencies[-1]}


def child(args: argparse.Namespace) -> None:
    from tui.app import tune_gc

    tune_gc()  # as run_app() does
    root = Path(args.root)
    if args.child == "paint":
        out = asyncio.run(_paint(root, args.runs))
    elif args.child == "group":
        out = asyncio.run(_group(root, args.runs))
    else:
        out = asyncio.run(_latency(root, args.seconds, args.rate))
    print("RESULT " + json.dumps(out))


def run_child(*argv: str, timeout: float = 900) -> dict:  # type: ignore[type-arg]
    proc = subprocess.run([sys.executable, __file__, "--child", *argv], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(proc.stdout[-2000:] + proc.stderr[-3000:])


# -- sections --------------------------------------------------------------------------------
def section_paint() -> None:
    print("first paint (in-process, Pilot 120x40; from App() to the first table row drawn)")
    for runs, first_target, filled_target in ((1000, "<= 0.5 s", ""), (10000, "<= 1 s", "<= 3 s")):
        root = make_root(runs, 1000)
        r = run_child("paint", "--root", str(root), "--runs", str(runs))
        row(f"{runs:,} runs x 1,000 steps x 4: first screenful", f"{r['first']:.2f} s", first_target)
        row(f"{runs:,} runs: every row in the table", f"{r['filled']:.2f} s", filled_target)
        row(f"{runs:,} runs: every history loaded", f"{r['loaded']:.1f} s", "(background)")
        row(f"{runs:,} runs: memory with rows / all histories",
            f"{r['rss_filled']:.0f} / {r['rss_loaded']:.0f} MB")


def _tmux_app(session: str, root: Path, width: int = 120, height: int = 40,
              env: dict[str, str] | None = None) -> int:
    subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, check=False)
    cmd = (f"exec {sys.executable} -c 'import sys; from tui.app import run_app; "
           f"sys.exit(run_app(sys.argv[1]))' {root}")
    # The server keeps the environment of whoever started it: pass ours to the new session.
    extra = [a for k, v in (env or {}).items() for a in ("-e", f"{k}={v}")]
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", str(width), "-y",
                    str(height), *extra, cmd], check=True, cwd=REPO,
                   env={**os.environ, "PYTHONPATH": str(REPO), "TERM": "xterm-256color",
                        **(env or {})})
    out = subprocess.run(["tmux", "display", "-p", "-t", session, "#{pane_pid}"],
                         capture_output=True, text=True, check=True).stdout
    return int(out.strip())


def _capture(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True,
                          text=True, check=False).stdout


def _start_cost(code: str) -> float:
    """Seconds of a fresh `python -c code`, the best of 3 (what a launch pays before App())."""
    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
        best = min(best, time.perf_counter() - t0)
    return best


def _launch(root: Path, env: dict[str, str]) -> tuple[float, float]:
    """Seconds from launch to rows on screen, and to a chart drawn (braille on screen)."""
    t0 = time.perf_counter()
    _tmux_app("rw-bench-cold", root, env=env)
    rows = charts = math.nan
    try:
        while time.perf_counter() - t0 < 120:
            screen = _capture("rw-bench-cold")
            if math.isnan(rows) and "run-" in screen:
                rows = time.perf_counter() - t0
            if any("\u2801" <= c <= "\u28ff" for c in screen):
                charts = time.perf_counter() - t0
                break
            time.sleep(0.01)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", "rw-bench-cold"], check=False)
    return rows, charts


def section_cold() -> None:
    print("cold start in a real terminal (tmux 120x40; `python` start, imports included)")
    py = _start_cost("pass")
    app = _start_cost("import tui.app")
    chart = _start_cost("import tui.app; from tui.widgets.chart import plotext; plotext()")
    row("python start", f"{py:.2f} s")
    row("  + imports before App() (tui.app: textual, rich, ours)", f"{app - py:.2f} s")
    row("  + plotext (the first chart's draw)", f"{chart - app:.2f} s")
    if shutil.which("tmux") is None:
        row("tmux not installed", "skipped")
        return
    xdg = Path(tempfile.mkdtemp(prefix="rw-bench-xdg-"))  # never the user's cache
    try:
        for runs in (1000, 10000):
            root = make_root(runs, 1000)
            rows, charts = _launch(root, {"XDG_CACHE_HOME": str(xdg)})
            row(f"{runs:,} runs: launch to rows / a chart on screen", f"{rows:.2f} / {charts:.2f} s")
        root = make_root(1000, 1000)
        _tmux_app("rw-bench-cold", root, env={"XDG_CACHE_HOME": str(xdg)})
        t0 = time.perf_counter()  # the reopen cache is written once every history is in
        while not list(xdg.glob("runwatch/app-*.bin")) and time.perf_counter() - t0 < 300:
            time.sleep(0.2)
        time.sleep(2)
        subprocess.run(["tmux", "kill-session", "-t", "rw-bench-cold"], check=False)
        rows, charts = _launch(root, {"XDG_CACHE_HOME": str(xdg)})
        row("1,000 runs reopened (cache): rows / a chart on screen", f"{rows:.2f} / {charts:.2f} s",
            "<= 0.3 s with charts, from App()")
    finally:
        shutil.rmtree(xdg, ignore_errors=True)


def section_group() -> None:
    print("a group of 1,000 runs as mean +- std (all keys but seed; 4 charts)")
    root = make_root(1000, 1000)
    r = run_child("group", "--root", str(root), "--runs", "1000")
    row(f"enter on the group to {r['charts']} charts drawn ({r['runs']} runs)",
        f"{r['seconds']:.2f} s", "<= 2 s")
    row("memory: before / after", f"{r['rss_before']:.0f} / {r['rss_after']:.0f} MB",
        "<= 500 MB")
    row("one chart's plotext build", f"{r['build_ms']:.1f} ms")


def section_latency() -> None:
    print("log() in a training process to that step painted in the table")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "runs"
        root.mkdir()
        r = run_child("latency", "--root", str(root), "--seconds", "10", "--rate", "20")
    row(f"p50 / p95 / max over {r['n']} steps (20 steps/s)",
        f"{r['p50']:.0f} / {r['p95']:.0f} / {r['max']:.0f} ms", "p95 <= 250 ms")


LOGGER = """
import sys, time, logger
rate, seconds = float(sys.argv[1]), float(sys.argv[2])
run = logger.init(project="cpu", name=sys.argv[3], dir=sys.argv[4])
end = time.time() + seconds
step, next_t = 0, time.time()
while time.time() < end:
    run.log({"loss": 1.0 / (step + 1), "acc": step * 1e-4, "lr": 1e-3, "gn": 0.5})
    step += 1
    next_t += 1.0 / rate
    time.sleep(max(0.0, next_t - time.time()))
run.finish()
"""


def _cpu_window(pid: int, seconds: float) -> float:
    c0, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return 100 * (cpu_seconds(pid) - c0) / (time.monotonic() - t0)


def section_cpu() -> None:
    print("CPU of the app process (tmux 120x40, % of one core, 10 s windows)")
    if shutil.which("tmux") is None:
        row("tmux not installed", "skipped")
        return
    root = make_root(1000, 1000)
    pid = _tmux_app("rw-bench-cpu", root)
    # "loading histories" shows only once every run is listed: wait for all 1,000 rows, then
    # for 2 s without it (under load, a fixed 3 s wait measured the loading as "idle").
    deadline = time.monotonic() + 300
    while "1000/1000 runs" not in _capture("rw-bench-cpu") and time.monotonic() < deadline:
        time.sleep(0.5)
    quiet = 0
    while quiet < 4 and time.monotonic() < deadline:
        quiet = 0 if "loading" in _capture("rw-bench-cpu") else quiet + 1
        time.sleep(0.5)
    row("idle, 1,000 runs loaded, nothing changing", f"{_cpu_window(pid, 10):.2f} %", "<= 1 %")
    row("memory, 1,000 runs x 1,000 steps x 4 metrics", f"{rss_mb(pid):.0f} MB")
    subprocess.run(["tmux", "kill-session", "-t", "rw-bench-cpu"], check=False)
    with tempfile.TemporaryDirectory() as tmp:
        live = Path(tmp) / "runs"
        live.mkdir()
        script = Path(tmp) / "log.py"
        script.write_text(LOGGER)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        pid = _tmux_app("rw-bench-cpu", live)
        time.sleep(2)
        one = subprocess.Popen([sys.executable, str(script), "10", "40", "one", str(live)], env=env)
        time.sleep(3)
        row("following one live run (10 steps/s), table", f"{_cpu_window(pid, 10):.2f} %", "<= 5 %")
        subprocess.run(["tmux", "send-keys", "-t", "rw-bench-cpu", "Enter"], check=False)
        time.sleep(2)
        row("following one live run (10 steps/s), its charts", f"{_cpu_window(pid, 10):.2f} %",
            "<= 5 %")
        subprocess.run(["tmux", "send-keys", "-t", "rw-bench-cpu", "Escape"], check=False)
        one.wait()
        many = [subprocess.Popen([sys.executable, str(script), "100", "25", f"w{i}", str(live)],
                                 env=env) for i in range(20)]
        time.sleep(5)
        row("20 runs each logging 100 steps/s", f"{_cpu_window(pid, 10):.2f} %", "<= 25 %")
        for p in many:
            p.wait()
        subprocess.run(["tmux", "kill-session", "-t", "rw-bench-cpu"], check=False)


SECTIONS = {"paint": section_paint, "cold": section_cold, "group": section_group,
            "latency": section_latency, "cpu": section_cpu}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sections", nargs="*", default=list(SECTIONS))
    parser.add_argument("--child")
    parser.add_argument("--root")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=float, default=20)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    print(f"runwatch TUI benchmarks ({os.cpu_count()} cores, Python {sys.version.split()[0]})")
    for name in args.sections:
        SECTIONS[name]()


if __name__ == "__main__":
    main()
