"""Run names' numbers ("adjective-noun-N", N counting the project's runs, as W&B's) stay
distinct when processes start at the same moment: real processes, released together."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import logger
from logger import Api
from logger.paths import NAMES_DIR

PROCESSES = 8

# Each child imports logger, says it is ready, then waits for the go file so that all of
# them call init() within a millisecond or so of each other (the race the old count lost).
CHILD = """
import os, sys, time
import logger
ready, go, root = sys.argv[1], sys.argv[2], sys.argv[3]
open(ready, "w").close()
deadline = time.monotonic() + 60
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.0005)
run = logger.init(project="p", dir=root)
print(run.name, flush=True)
run.finish()
"""


def _start_together(root: Path, gate: Path, count: int) -> list[str]:
    gate.mkdir(exist_ok=True)
    go = gate / "go"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(gate / f"ready{i}"), str(go), str(root)],
                              stdout=subprocess.PIPE, text=True, env=env) for i in range(count)]
    deadline = time.monotonic() + 120
    while (sum((gate / f"ready{i}").exists() for i in range(count)) < count
           and time.monotonic() < deadline):
        time.sleep(0.01)
    go.touch()
    names = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        names.append(out.strip())
    go.unlink()
    return names


def _numbers(names: list[str]) -> list[int]:
    return sorted(int(name.rsplit("-", 1)[1]) for name in names)


def test_runs_started_at_once_get_distinct_numbers(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    first = _start_together(root, tmp_path / "gate", PROCESSES)
    assert _numbers(first) == list(range(1, PROCESSES + 1)), first
    second = _start_together(root, tmp_path / "gate", PROCESSES)  # a project that has runs
    assert _numbers(second) == list(range(PROCESSES + 1, 2 * PROCESSES + 1)), second


def test_numbers_count_runs_not_the_projects_other_folders(tmp_path: Path) -> None:
    """Run directories from before names were claimed still count; a project's artifacts/
    and sweeps/ stores are not runs and add nothing to N."""
    for i in range(3):
        (tmp_path / "p" / f"old{i}").mkdir(parents=True)
    (tmp_path / "p" / "sweeps").mkdir()
    with logger.init(project="p", dir=str(tmp_path)) as run:
        run.log_artifact(_artifact(tmp_path))
    with logger.init(project="p", dir=str(tmp_path)) as second:
        pass
    assert (run.name.rsplit("-", 1)[1], second.name.rsplit("-", 1)[1]) == ("4", "5")


def _artifact(where: Path) -> logger.Artifact:
    weights = where / "w.bin"
    weights.write_bytes(b"0" * 8)
    art = logger.Artifact("model", type="model")
    art.add_file(str(weights))
    return art


def test_deleted_runs_do_not_give_their_numbers_to_new_runs(tmp_path: Path) -> None:
    """Deleting runs 1 and 2 of 5 leaves three directories: a count alone would name the next
    run -4 again, beside the -4 still there. The claims say 5 were given: it is -6."""
    runs = []
    for _ in range(5):
        with logger.init(project="p", dir=str(tmp_path)) as run:
            runs.append(run)
    for run in runs[:2]:
        shutil.rmtree(run.run_dir)
    with logger.init(project="p", dir=str(tmp_path)) as new:
        pass
    assert [r.name.rsplit("-", 1)[1] for r in runs] == ["1", "2", "3", "4", "5"]
    assert new.name.endswith("-6")
    assert [p.name for p in Api(tmp_path).projects()] == ["p"]  # the claims are no project
    assert len(Api(tmp_path).runs()) == 4


def test_a_root_where_claims_cannot_be_made_still_starts_runs(tmp_path: Path) -> None:
    (tmp_path / NAMES_DIR).write_text("not a folder")
    with logger.init(project="p", dir=str(tmp_path)) as run:
        run.log({"x": 1})
    assert run.name.endswith("-1")  # the count, as before claims


def test_a_project_deleted_and_made_again_numbers_from_one(tmp_path: Path) -> None:
    """rm -r of a project left its claims under ROOT/.run-names: the re-made project's first
    run was -4, where W&B's re-made project starts at -1. Its runs' own deletions still count."""
    if not _attributes_kept(tmp_path):
        pytest.skip("no extended attributes here: claims outlive their project, as before keys")
    for _ in range(3):
        with logger.init(project="p", dir=str(tmp_path)):
            pass
    shutil.rmtree(tmp_path / "p")
    names = []
    for _ in range(2):
        with logger.init(project="p", dir=str(tmp_path)) as run:
            names.append(run.name.rsplit("-", 1)[1])
    assert names == ["1", "2"]
    assert len(Api(tmp_path).runs()) == 2 and len(list((tmp_path / "p").iterdir())) == 2  # runs alone
    first = next(r for r in Api(tmp_path).runs() if r.name.endswith("-1"))
    shutil.rmtree(tmp_path / "p" / first.id)
    with logger.init(project="p", dir=str(tmp_path)) as run:
        pass
    assert run.name.endswith("-3")  # not -2 again: a deleted run keeps its claim


def _attributes_kept(where: Path) -> bool:
    try:
        os.setxattr(where, "user.runwatch.probe", b"1")
    except (AttributeError, OSError):
        return False
    return True
