"""The app's store reads a root in bounded passes: each read decodes at most about PASS_BYTES
over all its segments, whatever the runs hold. A read's decoded events live until published
(~10x their bytes): runs without snapshots (an older format, or a long stretch since the last
one) read 8 MiB a segment, 64 segments a batch, held gigabytes at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from logger import events as ev
from logger.reader import RootReader
from tui.model import first_reads
from tui.model.store import RunStore

REPO = Path(__file__).resolve().parents[1]
# Killed before finish and under 4 MiB: segments with no snapshot to start from (as an older
# format's), so a listing's read is the whole segment.
WRITE = """
import os, signal, sys, time, logger
run = logger.init(project="p", id=sys.argv[2], dir=sys.argv[1], settings=logger.Settings(
    x_disable_stats=True), config={"r": sys.argv[2]})
for i in range(3000):
    run.log({"loss": 1.0 / (i + 1), "acc": i * 0.001, "lr": 0.1})
time.sleep(0.5)  # the writer flushes every 0.1 s
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_each_read_decodes_about_pass_bytes_at_most(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    for r in range(8):
        subprocess.run([sys.executable, "-c", WRITE, str(root), f"r{r}"], cwd=REPO, timeout=120,
                       env={**os.environ, "RUNWATCH_CONSOLE": "off"})
    sizes = sorted(p.stat().st_size for p in root.rglob("*.rws"))
    monkeypatch.setattr(first_reads, "PASS_BYTES", 64 * 1024)  # where read_limit looks
    monkeypatch.setattr(first_reads, "MIN_BYTES", 4 * 1024)
    reads: list[tuple[int, int]] = []  # (bytes read, segments) per read
    original = RootReader._read

    def counted(self, paths, limit, stat_first):  # type: ignore[no-untyped-def]
        before = {p: s.offset for p, (_, s) in self._segments.items()}
        out = original(self, paths, limit, stat_first)
        grew = sum(s.offset - before.get(p, 0) for p, (_, s) in self._segments.items())
        reads.append((grew, len(paths)))
        return out

    monkeypatch.setattr(RootReader, "_read", counted)
    store = RunStore(root)
    store.first_pass()
    store.catch_up()
    assert sum(sizes) > 8 * 64 * 1024, sizes  # the runs hold far more than one pass
    # A segment's read stops at the first frame boundary past its share: a frame over at most.
    for grew, segments in reads:
        assert grew <= 64 * 1024 + segments * (ev.FRAME_BYTES + 4096), reads
    whole = RootReader(root)  # a full read
    whole.scan()
    full = whole.runs
    runs = store._follower.reader.runs
    assert {p: r.summary_flat() for p, r in runs.items()} == {
        p: r.summary_flat() for p, r in full.items()}
    assert all(r.state == full[p].state for p, r in runs.items())
