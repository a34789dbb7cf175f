"""A run read in meta mode (the listing, `Api().runs()` before history, the app) says what a
full read says for every field a listing shows, rewritten steps included: a resume from an
older checkpoint, a `commit=False` row split across segments, DDP ranks logging the same
steps. Runs are written by real training scripts; cold, cache-writing and cached reads."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from logger import events as ev
from logger.reader import RootReader
from tests.conftest import script_env

FIRST = """
import sys, logger
run = logger.init(project="p", id="r", dir=sys.argv[1], config={"lr": 0.1}, tags=["a"], group="g")
for i in range(300):
    run.log({"loss": i * 0.5, "acc": i})
run.log({"val": 1.0}, commit=False)  # step 300, committed by finish
run.finish()
"""
RESUMED = """
import sys, warnings, logger
warnings.simplefilter("ignore")
run = logger.init(project="p", id="r", dir=sys.argv[1], resume="must")
run.log({"val2": 2.0}, step=300, commit=False)  # the same step as the last row before
for i in range(200, 400):  # resumed from an older checkpoint
    run.log({"loss": i * 0.25}, step=i)
run.finish()
"""
STRIDED = """
import sys, warnings, logger
warnings.simplefilter("ignore")
run = logger.init(project="p", id="s", dir=sys.argv[1], resume="allow")
for i in range(int(sys.argv[2]), int(sys.argv[3]), 10):
    run.log({"loss": float(i)}, step=i)
run.finish()
"""
RANK = """
import sys, time, logger
from pathlib import Path
run = logger.init(project="p", id="ddp", dir=sys.argv[1], resume="allow")
while not Path(sys.argv[3]).exists():
    time.sleep(0.01)
for step in range(100):
    run.log({"loss": int(sys.argv[2]) * 1000.0 + step}, step=step)
run.finish()
"""


def _script(tmp_path: Path, code: str, *args: str) -> None:
    path = tmp_path / f"s{abs(hash(code))}.py"
    path.write_text(code)
    subprocess.run([sys.executable, str(path), *args], env=script_env(), check=True, timeout=60)


def _listed(run: Any) -> tuple[Any, ...]:
    """Every field a listing (ls, the app's table and info, Api().runs()) shows of a run."""
    return (run.state, run.summary_flat(), run.config, run.tags, run.name, run.notes, run.group,
            run.step, run.rows, run.created_at, run.state == "running" or run.runtime, run.exit_code,
            run.numeric_keys(), sorted(run.segments), run.rewritten)


def _read(root: Path, meta: bool) -> dict[str, Any]:
    reader = RootReader(root, meta=meta)
    reader.scan()
    return reader.runs


def _agree(root: Path, monkeypatch: pytest.MonkeyPatch, run_id: str, rewritten: int) -> None:
    with monkeypatch.context() as m:
        m.setenv("RUNWATCH_CACHE", "0")
        full = _listed(_read(root, meta=False)[f"p/{run_id}"])
        cold = _read(root, meta=True)[f"p/{run_id}"]
    assert full[-1] == rewritten
    assert _listed(cold) == full
    assert cold._full is None  # counted from the snapshots and digests: no row read again
    for _ in range(2):  # the first writes the index cache, the second reads from it
        cached = _read(root, meta=True)[f"p/{run_id}"]
        assert _listed(cached) == full
        assert cached._full is None


def test_a_resume_from_an_older_checkpoint_lists_its_rewritten_steps(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    _script(tmp_path, FIRST, str(root))
    _script(tmp_path, RESUMED, str(root))
    # The split row at 300, and steps 200..300 again: at or below the first writer's last (300).
    _agree(root, monkeypatch, "r", 102)


def test_strided_steps_resumed_back_list_their_rewritten_steps(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    _script(tmp_path, STRIDED, str(root), "0", "1000")  # steps 0, 10, ... 990
    _script(tmp_path, STRIDED, str(root), "505", "1505")  # 505 ... 985 again, then on
    _agree(root, monkeypatch, "s", 49)


def test_ranks_logging_the_same_steps_list_them_as_rewritten(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    script, go = tmp_path / "rank.py", tmp_path / "go"
    script.write_text(RANK)
    procs = [subprocess.Popen([sys.executable, str(script), str(root), str(rank), str(go)],
                              env=script_env()) for rank in (0, 1)]
    deadline = time.monotonic() + 30
    while len(list((root / "p" / "ddp").glob("*.rws"))) < 2:
        assert time.monotonic() < deadline, "both ranks should have started"
        time.sleep(0.05)
    go.write_text("")
    assert [p.wait(60) for p in procs] == [0, 0]
    _agree(root, monkeypatch, "ddp", 100)


def test_a_step_no_history_holds_is_skipped_by_both_reads(tmp_path, monkeypatch):
    """A hostile or foreign file's step past 64 bits: the full read's History cannot hold the
    row and skips it; the meta read's digest counted it (rows, the step shown, the summary)."""
    run_dir = tmp_path / "runs" / "p" / "h"
    run_dir.mkdir(parents=True)
    start = [ev.SegmentStart(version=ev.FORMAT_VERSION, run_id="h", role="script", host="h", pid=1,
                             proc_start=0, boot_id="", time=1.0),
             ev.RunStart(project="p", name="h", notes=None, tags=[], group=None, job_type=None,
                         config={}, command=[], python="3", cwd="/", git_commit=None,
                         git_branch=None, resumed=False, time=1.0, follows=[])]
    for name, rows in (("a", [(i, {"a": float(i)}) for i in range(5)] + [(2**64 - 1, {"a": 9.0})]),
                       ("b", [(2**64 - 1, {"b": "x"}), (3, {"a": 3.5, "b": "y"})])):
        logs = [ev.Log(step=s, time=2.0 + i, values=v) for i, (s, v) in enumerate(rows)]
        (run_dir / f"20260101T000000-script-1-{name * 6}.rws").write_bytes(
            ev.HEADER + ev.frames_from([ev.encode_event(e) for e in start + logs]))
    root = tmp_path / "runs"
    with monkeypatch.context() as m:
        m.setenv("RUNWATCH_CACHE", "0")
        full = _listed(_read(root, meta=False)["p/h"])
        cold = _listed(_read(root, meta=True)["p/h"])
    assert full[7] == 4 and full[8] == 6  # the step shown, the rows
    assert cold == full
