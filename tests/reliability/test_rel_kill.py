"""Kill torture: SIGKILL a logging subprocess at random moments, many times over.

Each phase (init, mid-log, log_artifact of a large directory, finish) is killed either at a
random wall-clock moment or at a random point of its own Python execution (a profile hook
that SIGKILLs the process at its k-th call event: every line between `os.open` and
`os.write` gets its turn). After each kill: the root reads without error, the steps are
0..N with nothing missing and nothing that was already on disk lost, no artifact version is
visible unless complete, and the run reads `crashed` (or `finished` when the finish event
made it out first).
"""

from __future__ import annotations

import hashlib
import os
import random
import time
from pathlib import Path
from typing import Any

import pytest
import relkit

from logger.api import Api
from logger.reader import RootReader

ITERATIONS = relkit.scale(6, 125)  # per phase: 24 kills in CI, 500 with --long

CHILD = r"""
import os, signal, sys, time
phase, root, run_id, kill_at, art_src = sys.argv[1:6]
kill_at = int(kill_at)
import logger

events = 0


def _profile(frame, event, arg):
    global events
    events += 1
    if events == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)


def armed(fn, *args, **kwargs):
    # Run fn, SIGKILLing this process at its kill_at-th profile event (-1: count them).
    global events
    events = 0
    sys.setprofile(_profile)
    try:
        return fn(*args, **kwargs)
    finally:
        sys.setprofile(None)
        if kill_at < 0:
            print("EVENTS", events, flush=True)


def log_steps(start, stop):
    for i in range(start, stop):
        logger.log({"loss": 1.0 / (i + 1), "i": i, "text": "x" * (i % 13)})


cfg = dict(project="t", id=run_id, dir=root, config={"lr": 0.01, "layers": list(range(64))},
           tags=["kill"])
if phase == "init":
    print("GO", flush=True)
    armed(logger.init, **cfg)
    log_steps(0, 50)
    logger.finish()
elif phase == "log":
    logger.init(**cfg)
    print("GO", flush=True)
    i = 0
    while True:  # until killed: ~10k steps a second
        log_steps(i, i + 10)
        i += 10
        time.sleep(0.001)
elif phase == "artifact":
    logger.init(**cfg)
    log_steps(0, 20)
    print("GO", flush=True)
    armed(logger.log_artifact, art_src, name="big", type="dataset")
    log_steps(20, 40)
    logger.finish()
elif phase == "finish":
    logger.init(**cfg)
    log_steps(0, 3000)
    print("GO", flush=True)
    armed(logger.finish)
print("DONE", flush=True)
"""

RESUME = r"""
import sys
import logger
root, run_id = sys.argv[1:3]
run = logger.init(project="t", id=run_id, dir=root, resume="allow")
start = run.step
for i in range(start, start + 10):
    logger.log({"loss": 1.0 / (i + 1), "i": i})
logger.finish()
print("RESUMED", start, flush=True)
"""

EXPECTED_STEPS = {"init": 50, "artifact": 40, "finish": 3000}


class Torture:
    """One phase's kills, all in one root, with what must hold after every one."""

    def __init__(self, tmp_path: Path, phase: str) -> None:
        self.phase = phase
        self.root = tmp_path / "runs"
        self.script = relkit.write_script(tmp_path, "child.py", CHILD)
        self.resume = relkit.write_script(tmp_path, "resume.py", RESUME)
        self.art_src = tmp_path / "big"
        self.seed = int.from_bytes(os.urandom(4), "big")
        self.rng = random.Random(self.seed)
        self.checked_objects: set[str] = set()
        self.outcomes: dict[str, int] = {}
        self.n = 0
        if phase == "artifact":
            self.art_src.mkdir()
            for k in range(40):  # 10 MB in 40 files
                (self.art_src / f"shard-{k:02d}.bin").write_bytes(os.urandom(256 * 1024))

    def context(self) -> str:
        return f"phase {self.phase}, kill #{self.n}, seed {self.seed}"

    def spawn(self, run_id: str, kill_at: int) -> relkit.Child:
        if self.phase == "artifact":  # new content each time, so each whole log is a new version
            (self.art_src / "stamp.bin").write_bytes(os.urandom(256 * 1024))
        # Console capture on: "GO" and "DONE" reach this test through the console relay even
        # when a kill follows at once (tests/test_console_relay.py is the console's own).
        return relkit.Child(self.script, self.phase, self.root, run_id, kill_at, self.art_src,
                            env=relkit.child_env(RUNWATCH_CONSOLE="redirect"))

    def calibrate(self) -> tuple[int, float]:
        """One uninterrupted run: how many profile events the phase has, and how long it takes."""
        child = self.spawn("calibrate", -1)
        try:
            child.expect("GO")
            t0 = time.monotonic()
            events = int(child.expect("EVENTS").split()[1])
            took = time.monotonic() - t0
            child.expect("DONE")
            rc, _, err = child.finish()
        finally:
            child.close()
        assert rc == 0, err
        self.check("calibrate", before=0, completed=True)
        return events, took

    def kill_once(self, events: int, took: float) -> None:
        self.n += 1
        run_id = f"k{self.n:04d}"
        by_profile = self.phase != "log" and self.rng.random() < 0.5
        # Half anywhere, half in the last 30% (file creation in init, the manifest link in
        # log_artifact, the finish event and fsync in finish all come late).
        low = 1 if self.rng.random() < 0.5 else max(1, int(events * 0.7))
        kill_at = self.rng.randint(low, events) if by_profile else 0
        child = self.spawn(run_id, kill_at)
        before = 0
        try:
            child.expect("GO")
            if not by_profile:
                time.sleep(self.rng.uniform(0.0, took))
            if self.phase == "log":
                before = self.steps_on_disk(run_id)
            child.kill()
            completed = "DONE" in child.finish()[1]
        finally:
            child.close()
        outcome = self.check(run_id, before, completed)
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if self.phase == "log" and self.n % 2:
            self.resume_after_crash(run_id)

    def steps_on_disk(self, run_id: str) -> int:
        reader = RootReader(self.root)
        reader.read_paths([self.root / "t" / run_id])
        run = reader.runs.get(f"t/{run_id}")
        return len(run.history) if run else 0

    def check(self, run_id: str, before: int, completed: bool) -> str:
        if not relkit.LONG or self.n % 10 == 0:
            reader = relkit.read_root(self.root)  # the whole root reads
        else:  # (in the long form, only every tenth time: the other runs did not change)
            reader = RootReader(self.root)
            reader.read_paths([self.root / "t" / run_id])
            reader.refresh_states()
        run = reader.runs.get(f"t/{run_id}")
        self.check_artifacts(reader)
        if run is None:
            assert self.phase == "init" and not completed, self.context()
            return "no run yet"
        relkit.exercise(run)
        finished = any(seg.finish is not None for seg in run.segments.values())
        assert run.state == ("finished" if finished else "crashed"), self.context()
        assert run.skipped_frames == 0, f"a torn tail counted as damage: {self.context()}"
        steps = relkit.assert_contiguous(run.history.steps, f"steps of {run_id} ({self.context()})")
        assert len(steps) >= before, f"steps on disk before the kill were lost: {self.context()}"
        _, losses = run.history.series("loss")
        assert losses == [1.0 / (i + 1) for i in steps], self.context()
        if finished or completed:
            assert finished and len(steps) == EXPECTED_STEPS[self.phase], self.context()
            return "finished"
        return "crashed"

    def check_artifacts(self, reader: Any) -> None:
        """Every visible version is whole: each file it lists is stored with its digest."""
        versions = sorted((self.root / "t" / "artifacts" / "big").glob("v*.json"))
        api = Api(self.root)
        wanted = {p.name for p in self.art_src.iterdir()} if self.art_src.is_dir() else set()
        for manifest in versions:
            art = api.artifact(f"t/big:{manifest.stem}")
            files = art.files()
            assert {f["name"] for f in files} == wanted, self.context()
            for f in files:
                if f["digest"] in self.checked_objects:
                    continue
                obj = self.root / "t" / "artifacts" / "objects" / f["digest"][:2] / f["digest"]
                data = obj.read_bytes()
                assert len(data) == f["size"] and hashlib.sha256(data).hexdigest() == f["digest"], (
                    f"version {manifest.stem} lists {f['name']} but its object is incomplete: "
                    f"{self.context()}")
                self.checked_objects.add(f["digest"])
        if versions:
            assert api.artifact("t/big:latest").version == max(versions, key=_number).stem
        for run in reader.runs.values():  # a logged-artifact event names a version that exists
            for logged in run.artifacts:
                assert (self.root / "t" / "artifacts" / logged.name / f"v{logged.version}.json").exists()

    def resume_after_crash(self, run_id: str) -> None:
        proc = relkit.run_script(self.resume, self.root, run_id)
        assert proc.returncode == 0, proc.stderr
        reader = RootReader(self.root)
        reader.read_paths([self.root / "t" / run_id])
        reader.refresh_states()
        run = reader.runs[f"t/{run_id}"]
        start = int(proc.stdout.split()[1])
        steps = relkit.assert_contiguous(sorted(run.history.steps), f"steps after resuming {run_id}")
        assert steps[-1] == start + 9 and run.state == "finished", self.context()


def _number(path: Path) -> int:
    return int(path.stem[1:])


@pytest.mark.parametrize("phase", ["init", "log", "artifact", "finish"])
def test_kill_torture(phase: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torture = Torture(tmp_path, phase)
    events, took = torture.calibrate() if phase != "log" else (0, 0.4)
    for _ in range(ITERATIONS):
        torture.kill_once(events, took)
    relkit.read_root(torture.root)
    relkit.exercise_api(torture.root)  # every killed run, through the API as well
    with capsys.disabled():
        print(f"\nkill torture [{phase}]: {ITERATIONS} kills (seed {torture.seed}, "
              f"{events} profile events, {took * 1000:.0f} ms uninterrupted): {torture.outcomes}")
    if phase != "init":
        assert torture.outcomes.get("crashed", 0) > 0, "no kill landed before the finish event"


def test_a_killed_writer_reads_crashed_within_seconds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torture = Torture(tmp_path, "log")
    root = torture.root
    child = torture.spawn("live", 0)
    try:
        child.expect("GO")
        reader = relkit.read_root(root)
        assert reader.runs["t/live"].state == "running"
        child.kill(reap=False)  # a zombie, not yet waited for: already dead
        t0 = time.monotonic()
        relkit.wait_until(lambda: reader.refresh_states() and reader.runs["t/live"].state == "crashed",
                          5.0, "the killed run to read crashed")
        latency = time.monotonic() - t0
        child.proc.wait()
    finally:
        child.close()
    reader.scan()
    relkit.assert_contiguous(reader.runs["t/live"].history.steps)
    with capsys.disabled():
        print(f"\nSIGKILL -> crashed: {latency * 1000:.1f} ms (zombie not reaped)")
