"""What numbering a run's name costs at init: the claimed number (logger/paths.py
claim_run_number: a count, a stat, an exclusive create) against the count alone that init
did before claims (the floor), for projects of 0, 1,000 and 10,000 runs, and after 1,000 of
10,000 runs were deleted (the doubling search). Same run, same disk: quote the ratios.

    .venv/bin/python tests/bench/bench_run_names.py

Target (issue 14's follow-up): never slower than the count alone by more than a few ms.
No asserts: this prints, people judge.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from logger.paths import claim_run_number, claims_dir  # noqa: E402

CALLS = 200


def count_only(project_dir: Path) -> int:
    """Before claims: the project's entries but artifacts/, plus one."""
    try:
        return sum(1 for e in os.scandir(project_dir) if e.name != "artifacts") + 1
    except OSError:
        return 1


def project_of(root: Path, runs: int, deleted: int = 0) -> Path:
    """A project with `runs` run directories whose numbers were claimed, `deleted` of them gone."""
    project = root / f"p{runs}-{deleted}"
    claims = claims_dir(project)
    claims.mkdir(parents=True)
    for i in range(runs):
        (claims / str(i + 1)).touch()
        if i >= deleted:
            (project / f"run{i:05d}").mkdir(parents=True)
    project.mkdir(exist_ok=True)
    return project


def per_call(fn, project: Path, undo) -> float:
    """The fastest call (the least disturbed by the load), in seconds; `undo` puts the project back so each call sees the same."""
    times = []
    for _ in range(CALLS):
        t = time.perf_counter()
        got = fn(project)
        times.append(time.perf_counter() - t)
        undo(got)
    return min(times)


def main() -> None:
    print(f"load: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} CPUs; fastest of {CALLS} calls")
    root = Path(tempfile.mkdtemp(prefix="runwatch-bench-names-"))
    try:
        for runs, deleted in ((0, 0), (1000, 0), (10_000, 0), (10_000, 1000)):
            project = project_of(root, runs, deleted)
            claims = claims_dir(project)
            floor = per_call(count_only, project, lambda n: None)
            claimed = per_call(claim_run_number, project, lambda n, c=claims: (c / str(n)).unlink())
            what = f"{runs} runs" + (f", {deleted} deleted" if deleted else "")
            print(f"  {what:<28} count alone {floor * 1e6:8.1f} us   claimed {claimed * 1e6:8.1f} us"
                  f"   {claimed / floor:5.2f}x   (+{(claimed - floor) * 1e6:.0f} us)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
