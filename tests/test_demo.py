"""`runwatch demo`: a real sweep of logger processes, its states, and no orphans left behind."""

from __future__ import annotations

import re
import shutil
import signal
import time
from pathlib import Path

from logger.host import process_alive
from logger.reader import RootReader
from tui.cli.common import EXIT_INTERRUPTED
from tui.demo import SWEEP, Curves

from .test_cli_support import Lines, rw, spawn, stop


def runs_of(root: Path) -> RootReader:
    reader = RootReader(root)
    reader.scan()
    return reader


def writers_alive(reader: RootReader) -> list[str]:
    alive = []
    for run in reader.runs.values():
        seg = run.first_segment
        if seg is not None and process_alive(seg.pid, seg.proc_start):
            alive.append(run.path)
    return alive


def ended_all_but_forever(lines: list[str]) -> bool:
    """Every run of the sweep that ends by itself has ended (four finish, one fails, one crashes)."""
    out = "".join(lines)
    return (out.count("  finished  after") == 4 and "  failed  exit 1" in out
            and "  crashed  after" in out)


def test_headless_demo_runs_a_sweep_with_every_ending(tmp_path: Path) -> None:
    # Stopped (Ctrl-C, as a person would) once tail has printed every ending, not after a fixed
    # `--stop-after`: seven workers starting at load ~9 took longer than any fixed delay.
    root = tmp_path / "demo"
    demo = spawn("demo", str(root), "--headless", "--speed", "100")
    lines = Lines(demo)
    try:
        lines.wait_for(lambda _: ended_all_but_forever(lines.lines), timeout=120)
        demo.send_signal(signal.SIGINT)
        out = lines.rest(timeout=30)
        assert demo.wait(timeout=30) == EXIT_INTERRUPTED
        assert demo.stderr is not None
        err = demo.stderr.read()
    finally:
        stop(demo)
    assert out.count("  started  ") == len(SWEEP)
    assert out.count("  finished  after") == 4
    assert re.search(r"  failed  exit 1  after \S+  RuntimeError: CUDA out of memory", out)
    assert "  crashed  after" in out
    assert "  step " in out and "val/acc" in out
    assert f"runs are kept in {root}" in err
    reader = runs_of(root)
    states = sorted(run.state for run in reader.runs.values())
    assert states == ["crashed", "failed", "finished", "finished", "finished", "finished", "killed"]
    assert writers_alive(reader) == []
    forever = next(r for r in reader.runs.values() if r.state == "killed")
    assert forever.config["epochs"] is None and forever.error == "SIGTERM received"
    failed = next(r for r in reader.runs.values() if r.state == "failed")
    assert failed.error.startswith("Traceback (most recent call last)")
    assert len(failed.history) > 0 and len({r.config["lr"] for r in reader.runs.values()}) == 6


def test_the_temporary_root_goes_away_with_the_demo() -> None:
    proc = rw("demo", "--headless", "--speed", "100", "--stop-after", "0.5", timeout=60)
    assert proc.returncode == 0, proc.stderr
    root = Path(re.search(r"writing under (\S+)", proc.stderr).group(1))
    assert root.name.startswith("runwatch-demo-") and not root.exists()


def test_workers_die_when_the_demo_is_killed(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    demo = spawn("demo", str(root), "--headless")
    lines = Lines(demo)
    try:
        lines.wait_for(lambda _: sum("  started  " in x for x in lines.lines) == len(SWEEP))
        assert len(writers_alive(runs_of(root))) == len(SWEEP)
        demo.send_signal(signal.SIGKILL)  # no chance to clean up: the workers must notice
        demo.wait(timeout=10)
        deadline = time.monotonic() + 10
        while (alive := writers_alive(runs_of(root))) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert alive == []
        assert {run.state for run in runs_of(root).runs.values()} == {"killed"}
    finally:
        stop(demo)
        shutil.rmtree(root, ignore_errors=True)


def test_curves_look_like_training() -> None:
    spec = dict(SWEEP[0])
    curves = Curves(spec, 450)
    early = sum(curves.train(s)[0] for s in range(10)) / 10
    late = sum(curves.train(s)[0] for s in range(440, 450)) / 10
    assert early > 1.5 and late < 0.4 and late < early
    assert curves.lr_at(0) < curves.lr_at(22) == spec["lr"] and curves.lr_at(449) < 1e-5
    val_loss, val_acc = curves.val(449)
    assert 0 < val_loss < 1 and 0.5 < val_acc < 1
