"""Writes that fail, stall or are interrupted, in real subprocesses: a file-size limit hit
mid-frame, a write that never returns, a disk still full at exit, and SIGTERM during init's
first flush and during finish()."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import relkit

from logger import events as ev

FSIZE = r"""
import os, resource, sys
import logger
root = sys.argv[1]
run = logger.init(project="p", id="fsize", dir=root)
resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, resource.RLIM_INFINITY))
for i in range(20000):  # a fast loop: ~1 MB logged, far past the limit
    logger.log({"loss": 1.0 / (i + 1), "acc": i * 1e-5, "lr": 3e-4, "i": i})
logger.finish()
print("SIZE", os.path.getsize(run._writer.path), flush=True)
"""


def test_a_write_cut_by_a_file_size_limit_leaves_only_whole_frames(tmp_path: Path) -> None:
    proc = relkit.run_script(relkit.write_script(tmp_path, "fsize.py", FSIZE), tmp_path / "runs")
    assert proc.returncode == 0, proc.stderr
    (path,) = relkit.segment_files(tmp_path / "runs" / "p" / "fsize")
    data = path.read_bytes()
    ends = [end for _, end in relkit.frame_spans(data)]  # asserts every frame is whole
    assert ends[-1] == len(data) <= 256 * 1024
    run = relkit.read_root(tmp_path / "runs").runs["p/fsize"]
    steps = relkit.assert_contiguous(run.history.steps)
    assert run.skipped_frames == 0 and len(steps) > 3000  # before: 0 readable rows
    (lost,) = [line for line in proc.stderr.splitlines() if "LOST" in line]
    assert f"LOST {20000 - len(steps)} steps" in lost and str(path) in lost


BLOCKED = r"""
import os, sys, time
import logger
root = sys.argv[1]
run = logger.init(project="p", id="stuck", dir=root)
logger.log({"x": 0})
run._writer.flush()
# The disk goes away: the writer's file becomes a pipe nobody reads (a hard NFS mount whose
# server died looks the same to the writer: write() never returns).
r, w = os.pipe()
os.dup2(w, run._writer._fd)

def rss():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) * 1024

value = "v" * 1500
clock = time.perf_counter
rss_at, took = [rss()], 0.0
for half in range(2):  # ~150 MB logged each half
    t0 = clock()
    for i in range(100_000):
        logger.log({"x": i, "text": value})
    took += clock() - t0
    rss_at.append(rss())
print("PER_LOG_US", took / 200_000 * 1e6, flush=True)
print("GROWTH_MB", (rss_at[1] - rss_at[0]) / 2**20, flush=True)
print("THEN_MB", (rss_at[2] - rss_at[1]) / 2**20, flush=True)
t = time.monotonic()
logger.finish()
print("FINISH_S", time.monotonic() - t, flush=True)
"""


def test_a_write_that_never_returns_keeps_log_fast_and_memory_bounded(tmp_path: Path) -> None:
    script = relkit.write_script(tmp_path, "blocked.py", BLOCKED)
    proc = relkit.run_script(script, tmp_path / "runs", timeout=90)
    assert proc.returncode == 0, proc.stderr
    figures = dict(re.findall(r"^(\w+) (-?[\d.]+)$", proc.stdout, re.M))
    assert float(figures["PER_LOG_US"]) < 30, proc.stdout  # before: ~75 us, and growing
    # Bounded: what waits for the disk is at most MAX_BUFFER (64 MB) plus ~100 ms of queue.
    assert float(figures["GROWTH_MB"]) < 200 and float(figures["THEN_MB"]) < 32, proc.stdout
    assert float(figures["FINISH_S"]) < 15, proc.stdout  # before: never returned
    (lost,) = [line for line in proc.stderr.splitlines() if "LOST" in line]
    steps = int(re.search(r"LOST (\d+) steps", lost).group(1))  # type: ignore[union-attr]
    assert 100_000 < steps <= 200_000 and "stuck" in lost and ".rws" in lost


DISK_FULL = r"""
import os, resource, sys, time
import logger
root = sys.argv[1]
run = logger.init(project="p", id="full", dir=root)
resource.setrlimit(resource.RLIMIT_FSIZE, (os.path.getsize(run._writer.path) + 70_000,
                                           resource.RLIM_INFINITY))
for i in range(3000):
    logger.log({"loss": 1.0 / (i + 1), "i": i})
    if i % 300 == 0:
        time.sleep(0.12)
logger.finish()
"""


def test_at_exit_with_the_disk_still_full_one_line_says_what_was_lost(tmp_path: Path) -> None:
    proc = relkit.run_script(relkit.write_script(tmp_path, "full.py", DISK_FULL), tmp_path / "runs")
    assert proc.returncode == 0, proc.stderr
    run = relkit.read_root(tmp_path / "runs").runs["p/full"]
    steps = relkit.assert_contiguous(run.history.steps)
    assert 0 < len(steps) < 3000 and run.skipped_frames == 0
    (lost,) = [line for line in proc.stderr.splitlines() if "LOST" in line]
    (path,) = relkit.segment_files(tmp_path / "runs" / "p" / "full")
    assert f"LOST {3000 - len(steps)} steps" in lost and str(path) in lost
    assert "File too large" in lost


# SIGTERM is sent from inside the writer at the named moment (a trace hook on the main thread
# fires when flush() or close() makes its first call), so the handler interrupts exactly there.
AT_MOMENT = r"""
import os, signal, sys
import logger
from logger import writer
root, moment = sys.argv[1], sys.argv[2]
armed = [True]

def tracer(frame, event, arg):
    back = frame.f_back
    if (armed[0] and event == "call" and frame.f_code.co_filename == writer.__file__
            and back is not None and back.f_code.co_filename == writer.__file__
            and back.f_code.co_name == moment):
        armed[0] = False
        os.kill(os.getpid(), signal.SIGTERM)

if moment == "flush":
    sys.settrace(tracer)  # init's first flush
run = logger.init(project="p", id="sig", dir=root, config={"lr": 0.1})
sys.settrace(None)
print("INIT", flush=True)
for i in range(5000):  # no flush in between: all of it is buffered when finish() starts
    logger.log({"loss": 1.0 / (i + 1), "i": i})
sys.settrace(tracer)
logger.finish()
print("NOT KILLED", flush=True)
"""


def test_sigterm_during_inits_first_flush_does_not_deadlock(tmp_path: Path) -> None:
    script = relkit.write_script(tmp_path, "sig.py", AT_MOMENT)
    proc = relkit.run_script(script, tmp_path / "runs", "flush", timeout=30)  # before: hung
    assert proc.returncode == -signal.SIGTERM, proc.stderr
    assert "INIT" not in proc.stdout
    run = relkit.read_root(tmp_path / "runs").runs["p/sig"]
    assert run.state == "killed" and run.config == {"lr": 0.1}


def test_sigterm_during_finish_keeps_buffered_steps_and_the_finish(tmp_path: Path) -> None:
    script = relkit.write_script(tmp_path, "sig.py", AT_MOMENT)
    proc = relkit.run_script(script, tmp_path / "runs", "close", timeout=30)
    assert "INIT" in proc.stdout and proc.returncode == -signal.SIGTERM, proc.stderr
    run = relkit.read_root(tmp_path / "runs").runs["p/sig"]
    relkit.assert_contiguous(run.history.steps)
    assert len(run.history) == 5000  # before: the buffered steps went with the process
    (path,) = relkit.segment_files(tmp_path / "runs" / "p" / "sig")
    events = ev.scan_frames(path.read_bytes(), ev.HEADER_SIZE)[0]
    assert any(type(e) is ev.Finish for e in events) and run.state in ("finished", "killed")
