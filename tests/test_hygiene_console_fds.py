"""A script that points its own fds 1 and 2 elsewhere (a daemon's log file) ends every writer
of the capture pipes, so the console thread exits; the fd numbers it held are then free for
the script's next open(). runwatch's late notes, and the finish that puts the console back,
must never write to, or dup over, a number that now belongs to one of the script's files."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import script_env

SCRIPT = r"""
import json, os, sys, threading, time
import logger
from logger import capture
root, out = sys.argv[1], sys.argv[2]
run = logger.init(project="p", id="fds", dir=root, console="redirect", system_interval=0)
print("before", flush=True)
own = os.open(os.path.join(out, "own.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
os.dup2(own, 1)
os.dup2(own, 2)
os.close(own)
deadline = time.monotonic() + 20
while any(t.name == "runwatch-console" for t in threading.enumerate()):
    assert time.monotonic() < deadline, "the console thread should end: no writer is left"
    time.sleep(0.02)
files = [open(os.path.join(out, f"data{i}.txt"), "w") for i in range(8)]  # the freed numbers
capture._captures[id(run)].note("runwatch: a late note")
run.finish()
capture.Capture("off", 0, 1000).note("runwatch: a note after finish")
os.write(1, b"after finish\n")
for f in files:
    f.write("mine\n")
    f.close()
json.dump({"fd1": os.readlink("/proc/self/fd/1")}, open(os.path.join(out, "fds.json"), "w"))
"""


def test_late_notes_and_finish_never_touch_a_reused_fd(tmp_path):
    script, out = tmp_path / "daemon.py", tmp_path / "out"
    script.write_text(SCRIPT)
    out.mkdir()
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / "runs"), str(out)],
                          env=script_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    for i in range(8):
        assert (out / f"data{i}.txt").read_text() == "mine\n", i  # nothing of runwatch's in it
    fds = json.loads((out / "fds.json").read_text())
    assert fds["fd1"] == str(out / "own.log")  # the script's own choice of fd 1 kept after finish
    assert "after finish" in (out / "own.log").read_text()
    assert "before" in proc.stdout
    segments = b"".join(p.read_bytes() for p in (tmp_path / "runs" / "p" / "fds").glob("*.rws"))
    assert b"runwatch: a late note" in segments  # kept in the run's console all the same
