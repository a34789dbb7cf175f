"""`tail --no-follow` that finds nothing to print says why on stderr, as `ls` does: a mistyped
root, or a -r/-p that selects none of the runs there, used to print nothing at all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import logger

REPO = Path(__file__).resolve().parents[1]


def _tail(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", "tail", *args, "--no-follow"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)


def test_a_missing_root_is_named(tmp_path: Path) -> None:
    got = _tail(str(tmp_path / "typo"))
    assert got.returncode == 0 and got.stdout == ""
    assert f"{tmp_path / 'typo'} does not exist yet" in got.stderr


def test_a_selection_that_matches_no_run_says_so(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    run = logger.init(project="p", name="kept", dir=str(root))
    run.log({"loss": 1.0})
    run.finish()
    got = _tail(str(root), "-r", "nosuch")
    assert got.returncode == 0 and got.stdout == ""
    assert "none of the 1 runs" in got.stderr and "runwatch ls" in got.stderr
    assert "kept" in _tail(str(root), "-r", "kept").stdout
