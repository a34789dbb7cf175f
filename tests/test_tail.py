"""`runwatch tail`: replay, live following of other processes, --until-done, --every, escaping."""

from __future__ import annotations

import io
import json
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from logger import events as ev
from logger.reader import RootReader, Update
from logger.rundata import RunData
from logger.writer import SegmentWriter
from tui.tail import Tail, TailOptions

from .test_cli_support import (
    HOSTILE,
    REPO,
    Lines,
    assert_no_raw_controls,
    env,
    make_sample,
    python,
    reap,
    rw,
    spawn,
    stop,
)

LINE = re.compile(r"^(\d\d:\d\d:\d\d)  (\S.*?)\s{2,}(\S.*)$")

TRAIN = """
import sys, time
import logger
root, name, steps, how = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
r = logger.init(project="live", name=name, dir=root, config={"lr": 0.01})
for i in range(steps):
    r.log({"loss": 1.0 / (i + 1)})
    time.sleep(0.02)
if how == "fail":
    raise RuntimeError("CUDA out of memory \\x1b[2J")
if how == "hang":
    time.sleep(60)
"""


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sample(tmp_path_factory.mktemp("tail") / "runs")


def train(root: Path, name: str, steps: int = 10, how: str = "finish") -> subprocess.Popen[str]:
    return python(TRAIN, str(root), name, str(steps), how, wait=False)


def tail_first(*args: str) -> subprocess.Popen[str]:
    """`runwatch tail ARGS` started before the root exists, once it says it waits for it: a
    short run cannot end before tail looks (it would print a `latest` line, not its end)."""
    tail = spawn("tail", *args)
    assert tail.stderr is not None
    assert "waiting for" in tail.stderr.readline()
    return tail


# -- replay ---------------------------------------------------------------------------------
def test_no_follow_prints_every_event_then_a_line_per_run(sample: Path) -> None:
    proc = rw("tail", str(sample), "--no-follow")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), [line for line, m in zip(lines, parsed) if not m]
    brisk = [m.group(3) for m in parsed if m and m.group(2) == "cats/brisk-otter-7"]
    assert brisk[0].startswith("started  tags baseline  lr=0.001 batch_size=64 optimizer.name=adam")
    assert brisk[1] == "step 0  loss 1.0000  acc 0  val.loss 2.0000"
    assert brisk[10] == "step 9  loss 0.1000  acc 0.9000  val.loss 0.2000"
    assert brisk[11].startswith("finished  after ")
    assert brisk[12].startswith("finished  step 9  ")  # the closing line of the run
    failed = [m.group(3) for m in parsed if m and m.group(2) == "cats/failing-heron-2"]
    assert "failed  exit 1  after 0s  ValueError: loss is nan" in failed
    # columns line up: every label is padded to the widest
    assert len({line.index(m.group(3)) for line, m in zip(lines, parsed) if m}) == 1


def test_json_lines_follow_the_documented_schema(sample: Path) -> None:
    proc = rw("tail", str(sample), "--no-follow", "--json")
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    kinds = [r["kind"] for r in records]
    assert set(kinds) == {"start", "log", "state", "latest"}
    for r in records:
        assert {"kind", "run", "project", "id", "name", "time", "ts"} <= set(r)
        assert r["run"] == f"{r['project']}/{r['id']}"
        assert r["time"].endswith("+00:00")
    log = next(r for r in records if r["kind"] == "log" and r["name"] == "brisk-otter-7")
    assert log["step"] == 0 and log["values"] == {"loss": 1.0, "acc": 0.0, "val.loss": 2.0}
    state = next(r for r in records if r["kind"] == "state" and r["name"] == "failing-heron-2")
    assert state["state"] == "failed" and state["exit_code"] == 1
    assert state["error"].endswith("ValueError: loss is nan")
    hostile = next(r for r in records if r["kind"] == "log" and r["project"] == "dogs")
    assert hostile["values"] == {"loss": "NaN", "acc": "Infinity", HOSTILE: HOSTILE}
    assert hostile["name"] == HOSTILE
    assert "\\u001b]52" in proc.stdout  # JSON's own escape for ESC
    assert_no_raw_controls(proc.stdout)


def test_hostile_strings_come_out_escaped(sample: Path) -> None:
    proc = rw("tail", str(sample), "--no-follow", "-p", "dogs")
    out = proc.stdout
    assert_no_raw_controls(out)
    assert out.count("\n") == len(out.splitlines())  # a newline in a name ends no line early
    assert "  dogs/evil\\x1b[31m\\x1b]52;c;aGk=\\x07[bold red]x[…  started" in out  # cut to 48
    assert "loss nan  acc inf" in out
    assert "started  tags evil\\x1b[31m" in out


def test_filters_and_metric_selection(sample: Path) -> None:
    proc = rw("tail", str(sample), "--no-follow", "-r", "failing-heron-2", "-m", "loss")
    lines = proc.stdout.splitlines()
    assert lines and all("cats/failing-heron-2" in line for line in lines)
    proc = rw("tail", str(sample), "--no-follow", "-p", "cats", "-m", "val.*,acc")
    steps = [line for line in proc.stdout.splitlines() if LINE.match(line).group(3).startswith("step")]
    assert steps[0].endswith("step 0  val.loss 2.0000  acc 0")
    assert len(steps) == 10  # the failing run logged neither key


def test_since_skips_older_events(tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "old" / "run1"
    run_dir.mkdir(parents=True)
    now = time.time()
    events = [
        ev.SegmentStart(version=ev.FORMAT_VERSION, run_id="run1", role="script", host="elsewhere",
                        pid=1, proc_start=0, boot_id="", time=now - 7200),
        ev.RunStart(project="old", name="yesterday", notes=None, tags=[], group=None,
                    job_type=None, config={}, command=[], python="3", cwd="/", git_commit=None,
                    git_branch=None, resumed=False, time=now - 7200),
        ev.Log(step=0, time=now - 7200, values={"loss": 1.0}),
        ev.Log(step=1, time=now - 60, values={"loss": 0.5}),
        ev.Finish(time=now - 59, exit_code=0, state="finished", error=None),
    ]
    (run_dir / "a.rws").write_bytes(ev.HEADER + b"".join(ev.encode(e) for e in events))
    root = run_dir.parent.parent
    proc = rw("tail", str(root), "--no-follow", "--since", "30m")
    lines = proc.stdout.splitlines()
    assert [line.split("  ", 2)[2] for line in lines[:2]] == ["step 1  loss 0.5000", "finished  after 1h59m"]
    assert len(lines) == 3 and "started" not in proc.stdout
    assert rw("tail", str(root), "--no-follow", "--since", "30s").stdout == ""


# -- following ------------------------------------------------------------------------------
@pytest.mark.parametrize("poll", [False, True], ids=["watch", "poll"])
def test_follows_a_run_written_by_another_process(tmp_path: Path, poll: bool) -> None:
    root = tmp_path / "runs"
    tail = spawn("tail", str(root), *(["--poll"] if poll else []))  # waits for the root
    lines = Lines(tail)
    try:
        assert "waiting for" in tail.stderr.readline()
        writer = train(root, "brisk-otter-7", steps=10)
        lines.wait_for(lambda line: "live/brisk-otter-7  started  lr=0.01" in line)
        lines.wait_for(lambda line: line.rstrip().endswith("step 9  loss 0.1000"))
        lines.wait_for(lambda line: "live/brisk-otter-7  finished  after" in line)
        assert reap(writer) == 0
        steps = [line for line in lines.lines if LINE.match(line).group(3).startswith("step")]
        assert len(steps) == 10
    finally:
        tail.send_signal(signal.SIGINT)
        assert tail.wait(timeout=10) == 130
        assert "Traceback" not in tail.stderr.read()
        stop(tail)


def test_until_done_exits_1_when_a_run_fails(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    # Both named: without -r, tail could see "good" end before "bad" had even started.
    tail = tail_first(str(root), "--until-done", "-r", "good", "-r", "bad", "-m", "loss")
    ok, bad = train(root, "good", steps=5), train(root, "bad", steps=8, how="fail")
    out, err = tail.communicate(timeout=30)
    assert reap(ok) == 0 and reap(bad) == 1
    assert tail.returncode == 1, err
    assert re.search(r"live/bad\s+failed  exit 1  after \S+  RuntimeError: CUDA out of memory \\x1b\[2J", out)
    assert_no_raw_controls(out)


def test_until_done_exits_0_when_every_run_finishes(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    tail = tail_first(str(root), "--until-done", "--json")
    writer = train(root, "good", steps=5)
    out, err = tail.communicate(timeout=30)
    assert reap(writer) == 0
    assert tail.returncode == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    assert records[-1]["kind"] == "state" and records[-1]["state"] == "finished"
    assert [r["step"] for r in records if r["kind"] == "log"][-1] == 4


def test_until_done_sees_a_sigkilled_run_crash(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    writer = train(root, "doomed", steps=5, how="hang")
    tail = spawn("tail", str(root), "--until-done", "-r", "doomed")
    lines = Lines(tail)
    try:
        lines.wait_for(lambda line: "step 4" in line)
        writer.kill()
        lines.wait_for(lambda line: "live/doomed  crashed" in line)
        assert tail.wait(timeout=10) == 1
    finally:
        stop(tail)
        stop(writer)


def test_until_done_on_a_named_run_that_already_ended(sample: Path) -> None:
    assert rw("tail", str(sample), "--until-done", "-r", "failing-heron-2").returncode == 1
    proc = rw("tail", str(sample), "--until-done", "-r", "brisk-otter-7")
    assert proc.returncode == 0
    assert "finished  step 9" in proc.stdout


def test_tags_and_notes_edits_show_live(sample: Path, tmp_path: Path) -> None:
    root = Path(shutil.copytree(sample, tmp_path / "runs"))
    tail = spawn("tail", str(root))
    lines = Lines(tail)
    try:
        assert "3 runs, 0 running" in tail.stderr.readline()
        # The follower's first rescan happens as its watch starts; give inotify a moment.
        time.sleep(0.2)
        assert rw("tag", "brisk-otter-7", "+best", "--root", str(root)).returncode == 0
        lines.wait_for(lambda line: "tags  +best  now: baseline, best" in line)
        assert rw("note", "brisk-otter-7", "look\x1b[2J", "--root", str(root)).returncode == 0
        lines.wait_for(lambda line: "notes  look\\x1b[2J" in line)
    finally:
        stop(tail)


def test_no_subcommand_without_a_terminal_runs_tail(sample: Path) -> None:
    proc = spawn(str(sample))
    try:
        note = proc.stderr.readline()
        assert "not a terminal" in note and "runwatch tail" in note
        assert "following" in proc.stderr.readline()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 130
        assert proc.stdout.read() == "" and "Traceback" not in proc.stderr.read()
    finally:
        stop(proc)


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    # Far more than a pipe holds, so that tail is still writing when the reader goes away.
    python("""
        import sys
        import logger
        for i in range(3):
            r = logger.init(project="bulk", name=f"b{i}", dir=sys.argv[1], reinit=True)
            for s in range(3000):
                r.log({"loss": s})
            r.finish()
    """, str(root))
    code = f"""
import subprocess, sys
p = subprocess.Popen([sys.executable, "-m", "tui", "tail", {str(root)!r}, "--no-follow"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
p.stdout.readline()
p.stdout.close()
print(p.wait(), p.stderr.read().decode())
"""
    proc = subprocess.run([sys.executable, "-c", code], env=env(), cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    rc, _, err = proc.stdout.partition(" ")
    assert rc == "0" and err.strip() == "", proc.stdout


# -- --every --------------------------------------------------------------------------------
def _log_updates(root: Path, count: int, spacing: float) -> tuple[RunData, list[ev.Log], io.StringIO]:
    writer = SegmentWriter(root / "p" / "r1", "r1")
    writer.close()
    reader = RootReader(root)
    (update,) = reader.scan()
    t0 = time.time() - 100
    events = []
    for i in range(count):
        values = {"loss": float(i)}
        if i % 7 == 0:
            values["val/acc"] = i / 100
        events.append(ev.Log(step=i, time=t0 + i * spacing, values=values))
    return update.run, events, io.StringIO()


def test_every_prints_at_most_one_row_per_interval_with_the_latest_values(tmp_path: Path) -> None:
    run, events, out = _log_updates(tmp_path, 100, 0.05)  # 5 s of rows, 20 per second
    tail = Tail(TailOptions(every=1.0), out)
    tail.state[run.path] = "running"
    tail.live([Update(run, events, False, False)])
    tail.flush_due()  # the wall clock is far past the rows: what waits is printed
    lines = out.getvalue().splitlines()
    steps = [int(re.search(r"step (\d+)", line).group(1)) for line in lines]
    assert 5 <= len(lines) <= 6 and steps == sorted(steps)
    assert steps[-1] == 99  # the newest row is never lost
    assert lines[-1].endswith("step 99  loss 99.0000  val/acc 0.9800")  # merged: val/acc from 98


def test_every_never_drops_a_state_change(tmp_path: Path) -> None:
    run, events, out = _log_updates(tmp_path, 30, 0.01)
    tail = Tail(TailOptions(every=60.0), out)
    tail.state[run.path] = "running"
    tail.live([Update(run, events, False, False)])
    assert len(out.getvalue().splitlines()) == 1  # step 0; the rest wait for the interval
    run.state = "failed"  # as the reader sets it when the finish event arrives
    run.exit_code = 1
    tail.live([Update(run, [], False, True)])
    lines = out.getvalue().splitlines()
    assert "step 29  loss 29.0000" in lines[1] and "failed  exit 1" in lines[2]


def test_every_on_the_command_line(sample: Path) -> None:
    proc = rw("tail", str(sample), "--no-follow", "--every", "3600", "-r", "brisk-otter-7")
    steps = [line for line in proc.stdout.splitlines() if LINE.match(line).group(3).startswith("step")]
    assert len(steps) == 2  # the first row, then the newest when the replay ends
    assert "step 0  loss 1.0000" in steps[0] and "step 9  loss 0.1000" in steps[1]
