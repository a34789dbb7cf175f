"""`tail --no-follow` says on stderr what its read passed over, in `show`'s words: damaged
frames skipped (the count RunData.skipped_frames sums), and rows whose step is past int64,
which it prints and a history cannot hold (`show` counts them as dropped rows). stdout stays
the data alone, in text and in --json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import logger
from logger import events as ev
from tests.test_scale_read import A, _log, _start, _write
from tui.tail_replay import meta_reader

REPO = Path(__file__).resolve().parents[1]


def _tail(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", "tail", str(root), "--no-follow", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def _damaged_run(root: Path) -> Path:
    """A run the real logger wrote, one frame in the middle of its segment damaged."""
    run = logger.init(project="p", name="dmg", id="r1", dir=str(root))
    for i in range(3000):
        run.log({"loss": i * 0.5 + 0.25, "acc": 0.5})
    run.finish()
    seg = next((root / "p" / "r1").glob("*.rws"))
    data = bytearray(seg.read_bytes())
    data[len(data) // 3] ^= 0xFF
    seg.write_bytes(bytes(data))
    return seg


@pytest.mark.parametrize("json_lines", [False, True])
def test_a_damaged_frame_is_counted_on_stderr_and_stdout_holds_the_data(tmp_path, json_lines):
    root = tmp_path / "runs"
    _damaged_run(root)
    whole = logger.init(project="p", name="whole", id="r2", dir=str(root))  # nothing to say of it
    whole.log({"loss": 1.0})
    whole.finish()
    skipped = meta_reader(root).runs["p/r1"].skipped_frames  # every frame read, as tail reads them
    assert skipped == 1
    got = _tail(root, *(["--json"] if json_lines else []))
    assert got.returncode == 0
    assert got.stderr.splitlines() == [f"runwatch: run p/r1: {skipped} damaged frame(s) skipped while reading; "
                                       "the rest of the run reads normally"]
    lines = got.stdout.splitlines()
    if json_lines:
        objs = [json.loads(line) for line in lines]  # every line is data
        steps = [o["step"] for o in objs if o["kind"] == "log" and o["run"] == "p/r1"]
        assert objs[-1]["kind"] == "latest"
    else:
        assert all("runwatch:" not in line for line in lines)
        steps = [int(line.split("  step ")[1].split()[0]) for line in lines
                 if "p/dmg " in line and "  step " in line and "finished" not in line]
    assert 0 < len(steps) < 3000 and steps[-1] == 2999  # a frame's rows lost, the rest read


@pytest.mark.parametrize("json_lines", [False, True])
def test_rows_with_a_step_past_int64_print_and_are_counted(tmp_path, json_lines):
    root = tmp_path / "runs"
    logs = [_log(s, 1796126212.0 + s * 0.01, loss=0.5 + s) for s in range(5)]
    logs += [_log(2**63 + 7, 1796126213.0, loss=1.5), _log(2**64 - 1, 1796126213.1, loss=2.5)]
    fin = ev.Finish(time=1796126214.0, exit_code=0, state="finished", error=None)
    _write(root / "p" / "r", A, [*_start("script", 1796126211.0), *logs, fin])
    got = _tail(root, *(["--json"] if json_lines else []))
    assert got.returncode == 0
    assert "runwatch: run p/r: 2 row(s) with a step outside 64 bits, printed" in got.stderr
    assert "damaged" not in got.stderr
    assert str(2**64 - 1) in got.stdout and "runwatch:" not in got.stdout
