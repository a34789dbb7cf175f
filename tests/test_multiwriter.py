"""Several writers of one run (DDP ranks sharing an id, a resume while the original runs).

Every reader gives the same answer whatever order it read the files in; each writer's own
rows stay readable; steps where writers logged the same key are counted and reported.
"""

from __future__ import annotations

import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from logger import Api, RunwatchWarning
from logger import events as ev
from logger.reader import RootReader
from tests.conftest import script_env


def _start(name: str, t0: float) -> list[ev.Event]:
    return [
        ev.SegmentStart(version=ev.FORMAT_VERSION, run_id="r", role=name, host="elsewhere",
                        pid=1, proc_start=0, boot_id="", time=t0),
        ev.RunStart(project="p", name="r", notes=None, tags=[], group=None, job_type=None,
                    config={}, command=[], python="3", cwd="/", git_commit=None,
                    git_branch=None, resumed=False, time=t0),
    ]


def _logs(rank: int, steps: range, t0: float) -> list[ev.Event]:
    return [ev.Log(step=s, time=t0 + s, values={"loss": rank * 1000.0 + s, f"only{rank}": s})
            for s in steps]


def _frames(events: list[ev.Event]) -> bytes:
    return b"".join(ev.encode(e) for e in events)


def _answer(reader: RootReader) -> tuple:
    run = reader.runs["p/r"]
    h = run.history
    return (list(h.rows()), h.columns["loss"].series(), h.series("loss"), h.series("loss", "_runtime"),
            run.summary_flat()["loss"], h.rewritten, getattr(h, "overlaps", None))


def test_every_read_order_gives_the_same_history_and_nothing_is_unreachable(tmp_path):
    root = tmp_path / "runs"
    run_dir = root / "p" / "r"
    run_dir.mkdir(parents=True)
    # rank 1's clock is behind rank 0's: order must not come from the clocks either
    a, b = run_dir / "20260101T000000-rank0-10-aaaaaa.rws", run_dir / "20260101T000000-rank1-11-bbbbbb.rws"
    a_events = [*_start("rank 0", 1000.0), *_logs(0, range(100), 1000.0)]
    b_events = [*_start("rank 1", 500.0), *_logs(1, range(100), 500.0)]
    a.write_bytes(ev.HEADER + _frames(a_events))
    b.write_bytes(ev.HEADER + _frames(b_events))

    answers = []
    in_order = RootReader(root)
    in_order.scan()
    answers.append(_answer(in_order))
    backwards = RootReader(root)
    backwards.read_paths([b])
    backwards.read_paths([a])
    answers.append(_answer(backwards))
    # A live reader that saw the files grow in turns, the other file first each time.
    a.write_bytes(ev.HEADER + _frames(a_events[:50]))
    b.write_bytes(ev.HEADER + _frames(b_events[:20]))
    live = RootReader(root)
    live.read_paths([b, a])
    live.runs["p/r"].history.rows()  # a view taken mid-way must not stick
    with open(a, "ab") as f:
        f.write(_frames(a_events[50:]))
    live.read_paths([a])
    with open(b, "ab") as f:
        f.write(_frames(b_events[20:]))
    live.read_paths([b])
    answers.append(_answer(live))
    assert answers[0] == answers[1] == answers[2]

    run = in_order.runs["p/r"]
    rows = list(run.history.rows())
    assert len(rows) == 100 and {r["loss"] for r in rows} == {1000.0 + s for s in range(100)}
    assert rows[7]["only0"] == 7 and rows[7]["only1"] == 7  # keys of both writers merge per step
    assert run.history.overlaps == 100  # both logged "loss" at every step
    # Nothing unreachable: each writer's own 100 values.
    assert run.writers == [a.name, b.name]
    for rank, path in enumerate((a, b)):
        steps, values = run.writer_history(path.name).columns["loss"].series()
        assert steps == list(range(100)) and values == [rank * 1000.0 + s for s in range(100)]
    assert run.writer_history("rank 1").columns["loss"].last_value == 1099.0


WRITER = """
import sys, time
from pathlib import Path
import logger
root, rank, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
run = logger.init(project="p", id="shared", dir=root, resume="allow")
while not go.exists():
    time.sleep(0.01)
for step in range(100):
    run.log({"loss": rank * 1000.0 + step, "rank": rank}, step=step)
    time.sleep(0.002)
run.finish()
"""


def test_two_concurrent_processes_sharing_a_run_id(tmp_path):
    root = tmp_path / "runs"
    script = tmp_path / "rank.py"
    script.write_text(WRITER)
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, str(script), str(root), str(rank), str(go)],
                              env=script_env(), stderr=subprocess.DEVNULL) for rank in (0, 1)]
    deadline = time.monotonic() + 30
    while len(list((root / "p" / "shared").glob("*.rws"))) < 2:
        assert time.monotonic() < deadline, "both writers should have started"
        time.sleep(0.05)
    go.write_text("")
    assert [p.wait(60) for p in procs] == [0, 0]

    with pytest.warns(RunwatchWarning, match="2 writers logged the same keys at 100 step"):
        run = Api(root).run("p/shared")
    assert run.overlapping_steps == 100 and len(run.writers) == 2
    own = {}
    for writer in run.writers:
        rows = list(run.scan_history(writer=writer))
        assert [r["_step"] for r in rows] == list(range(100))
        (rank,) = {r["rank"] for r in rows}
        assert [r["loss"] for r in rows] == [rank * 1000.0 + s for s in range(100)]
        own[writer] = rows
    assert sorted(r["rank"] for rows in own.values() for r in rows[:1]) == [0, 1]  # 200 values
    merged = [(r["_step"], r["loss"]) for r in run.scan_history()]
    last = own[run.writers[-1]]
    assert merged == [(r["_step"], r["loss"]) for r in last]
    # Another reader, the files in the other order, agrees.
    reader = RootReader(root)
    reader.read_paths(sorted(Path(root, "p", "shared").glob("*.rws"), reverse=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunwatchWarning)
        again = [(r["_step"], r["loss"]) for r in reader.runs["p/shared"].history.rows()]
    assert again == merged


def test_a_resume_from_an_older_checkpoint_wins_whatever_the_read_order(tmp_path):
    """A resume (it follows the original) rewinds to step 5; its clock is behind. Readers
    reading either file first show the resume's values from step 5 on, and count the rewrite."""
    root = tmp_path / "runs"
    run_dir = root / "p" / "r"
    run_dir.mkdir(parents=True)
    first, resume = run_dir / "20260101T000000-script-1-aaaaaa.rws", run_dir / "20250101T000000-script-2-bbbbbb.rws"
    start = _start("script", 1000.0)
    first.write_bytes(ev.HEADER + _frames([*start, *_logs(0, range(10), 1000.0)]))
    again = _start("script", 10.0)
    again[1] = ev.RunStart(**{**{f: getattr(again[1], f) for f in again[1].__struct_fields__},
                              "resumed": True, "follows": [first.name]})
    resume.write_bytes(ev.HEADER + _frames([*again, *_logs(1, range(5, 15), 10.0)]))
    views = []
    for order in ([first, resume], [resume, first]):
        reader = RootReader(root)
        for path in order:
            reader.read_paths([path])
        h = reader.runs["p/r"].history
        views.append((h.columns["loss"].series(), h.rewritten, list(h.rows())))
    assert views[0] == views[1]
    (steps, values), rewritten, _ = views[0]
    assert steps == list(range(15)) and rewritten == 5
    assert values == [float(s) for s in range(5)] + [1000.0 + s for s in range(5, 15)]
