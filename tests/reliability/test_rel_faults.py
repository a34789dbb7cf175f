"""Faults a long training run meets: a full disk, its run directory deleted under it, and a
wall clock that steps backwards. The training loop must finish; the run must read correctly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import relkit

DISK_FULL = r"""
import os, resource, signal, sys, time
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG from write(), as ENOSPC would be
import logger
root, recover = sys.argv[1], sys.argv[2] == "recover"
run = logger.init(project="p", id="full", dir=root, config={"lr": 0.1})
size = os.path.getsize(run._writer.path)
resource.setrlimit(resource.RLIMIT_FSIZE, (size + 4000, resource.RLIM_INFINITY))
for i in range(3000):
    logger.log({"loss": 1.0 / (i + 1), "i": i})
    if i % 300 == 0:
        time.sleep(0.12)  # let the flusher try (and fail) several times
print("LOOP DONE", i, flush=True)
if recover:  # space freed: what was kept in memory must reach the file
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
logger.finish()
print("FINISHED", flush=True)
"""


@pytest.mark.parametrize("recover", [False, True], ids=["stays-full", "space-freed"])
def test_a_full_disk_lets_training_finish_with_one_warning(recover: bool, tmp_path: Path) -> None:
    script = relkit.write_script(tmp_path, "full.py", DISK_FULL)
    proc = relkit.run_script(script, tmp_path / "runs", "recover" if recover else "no")
    assert proc.returncode == 0, proc.stderr
    assert "LOOP DONE 2999" in proc.stdout and "FINISHED" in proc.stdout
    warnings = [line for line in proc.stderr.splitlines() if "RunwatchWarning" in line]
    assert len(warnings) == 1, proc.stderr
    assert "full" in warnings[0] and "File too large" in warnings[0]
    assert "Traceback" not in proc.stderr
    run = relkit.read_root(tmp_path / "runs").runs["p/full"]
    assert run.skipped_frames == 0
    steps = relkit.assert_contiguous(run.history.steps)
    assert run.config == {"lr": 0.1}
    if recover:
        assert len(steps) == 3000 and run.state == "finished"
        assert "works again" in proc.stderr
    else:
        assert 0 < len(steps) < 3000 and run.state == "crashed"  # the finish event never landed


DELETED = r"""
import sys, time
import logger
root = sys.argv[1]
run = logger.init(project="p", id="gone", dir=root, name="keep-me", tags=["t1"],
                  config={"lr": 0.1, "nested": {"a": 1}})
run.notes = "before the delete"
i = 0
print("GO", flush=True)
for line in sys.stdin:  # one command per line from the test
    if line.strip() == "finish":
        break
    for _ in range(int(line)):
        logger.log({"loss": 1.0 / (i + 1), "i": i})
        i += 1
        time.sleep(0.001)
    print("LOGGED", i, flush=True)
logger.finish()
print("FINISHED", i, flush=True)
"""


def test_the_run_directory_deleted_under_a_running_script(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    run_dir = root / "p" / "gone"
    child = relkit.Child(relkit.write_script(tmp_path, "gone.py", DELETED), root)
    try:
        child.expect("GO")
        child.send("100")
        child.expect("LOGGED 100")
        relkit.wait_until(lambda: len(relkit.read_root(root).runs["p/gone"].history) == 100, 5,
                          "the first 100 steps to reach the file")
        shutil.rmtree(run_dir)
        # The script keeps logging; within about a second it notices and starts a new segment.
        logged = 100
        while not relkit.segment_files(run_dir):
            child.send("20")
            logged += 20
            child.expect(f"LOGGED {logged}")
            assert logged < 5000, "no new segment after the run directory was deleted"
        child.send("200")
        child.expect(f"LOGGED {logged + 200}")
        child.send("finish")
        rc, out, err = child.finish()
    finally:
        child.close()
    assert rc == 0, err
    assert err.count("RunwatchWarning") == 1 and "was deleted" in err, err
    run = relkit.read_root(root).runs["p/gone"]
    assert run.state == "finished" and run.skipped_frames == 0
    assert (run.name, run.tags, run.notes) == ("keep-me", ("t1",), "before the delete")
    assert run.config == {"lr": 0.1, "nested": {"a": 1}}
    steps = list(run.history.steps)
    assert steps == list(range(steps[0], logged + 200)), "steps after the new segment have gaps"
    assert len(steps) >= 200


CLOCK = r"""
import sys, time
_real = time.time
offset = [0.0]
time.time = lambda: _real() + offset[0]  # before logger is imported: it keeps time.time
import logger
root = sys.argv[1]
run = logger.init(project="p", id="clock", dir=root, tags=["before"], notes="before",
                  config={"lr": 0.1})
for i in range(50):
    logger.log({"loss": float(i), "i": i})
offset[0] = -3600.0  # NTP steps the clock back an hour mid-run
for i in range(50, 100):
    logger.log({"loss": float(i), "i": i})
run.tags = ["after"]
run.notes = "after"
run.name = "renamed-after"
run.config.update({"lr": 0.2}, allow_val_change=True)
run.summary["best"] = 99.0
logger.finish()
"""


@pytest.fixture(scope="module")
def clock_run(tmp_path_factory: pytest.TempPathFactory) -> object:
    tmp = tmp_path_factory.mktemp("clock")
    proc = relkit.run_script(relkit.write_script(tmp, "clock.py", CLOCK), tmp / "runs")
    assert proc.returncode == 0, proc.stderr
    return relkit.read_root(tmp / "runs").runs["p/clock"]


def test_a_clock_stepping_back_keeps_every_step_in_order(clock_run: object) -> None:
    run = clock_run
    assert run.state == "finished"
    relkit.assert_contiguous(run.history.steps)
    assert run.history.series("loss") == ([float(i) for i in range(100)], [float(i) for i in range(100)])
    assert [row["_step"] for row in run.history.rows()] == list(range(100))
    assert run.summary_flat()["best"] == 99.0


@pytest.mark.parametrize("field", ["tags", "notes", "name", "config"])
def test_a_clock_stepping_back_keeps_the_latest_edits(field: str, clock_run: object) -> None:
    expected = {"tags": ("after",), "notes": "after", "name": "renamed-after",
                "config": {"lr": 0.2}}[field]
    assert getattr(clock_run, field) == expected


def test_a_clock_stepping_back_keeps_the_last_logged_value_as_summary(clock_run: object) -> None:
    assert clock_run.summary_flat()["loss"] == 99.0
    assert clock_run.summary_flat()["i"] == 99


SKEWED = r"""
import os, signal, sys, time
_real = time.time
offset = float(sys.argv[3])
time.time = lambda: _real() + offset
import logger
root, how = sys.argv[1], sys.argv[2]
run = logger.init(project="p", id="skew", dir=root, resume="allow", config={"lr": float(sys.argv[4])},
                  allow_val_change=True)
for i in range(5):
    logger.log({"loss": 1.0 / (run.step + 1)})
if how == "crash":
    run._writer.flush()
    os.kill(os.getpid(), signal.SIGKILL)
logger.finish()
"""


def test_a_resume_on_a_clock_behind_the_crash_reads_finished(tmp_path: Path) -> None:
    script = relkit.write_script(tmp_path, "skewed.py", SKEWED)
    root = tmp_path / "runs"
    crashed = relkit.run_script(script, root, "crash", 0, 0.1)
    assert crashed.returncode == -9
    resumed = relkit.run_script(script, root, "finish", -3600, 0.2)  # an hour behind
    assert resumed.returncode == 0, resumed.stderr
    run = relkit.read_root(root).runs["p/skew"]
    relkit.assert_contiguous(sorted(run.history.steps))
    assert (run.state, run.config) == ("finished", {"lr": 0.2})
