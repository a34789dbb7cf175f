"""Processes starting at once on one host (DDP restart, a resume) find a dead process's
system-metrics claim: exactly one of them takes it over and samples (logger/system.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

from tests.conftest import script_env

# Each racer waits on one pipe per round (every racer wakes when the test writes to it), then
# claims that round's run directory, and stays alive: a winner that exited would be dead too.
RACER = """
import os, select, sys
from pathlib import Path
from logger.system import claim_host
for run_dir, fd in zip(sys.argv[1::2], sys.argv[2::2]):
    select.select([int(fd)], [], [])
    print(claim_host(Path(run_dir)), flush=True)
sys.stdin.read()
"""
N, ROUNDS = 8, 10


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(proc.stdout)


def test_exactly_one_of_several_processes_takes_over_a_dead_claim(tmp_path):
    dead, old = _dead_pid(), time.time() - 60
    claims, pipes, args = [], [], []
    for r in range(ROUNDS):
        run_dir = tmp_path / f"run{r}"
        run_dir.mkdir()
        claim = run_dir / f".system-{socket.gethostname()}.claim"
        claim.write_text(f"{dead} 12345\n")  # a claimant SIGKILLed long ago
        os.utime(claim, (old, old))
        read, write = os.pipe()
        claims.append(claim)
        pipes.append((read, write))
        args += [str(run_dir), str(read)]
    script = tmp_path / "racer.py"
    script.write_text(RACER)
    env = script_env()
    env.pop("LOCAL_RANK", None)
    procs = [subprocess.Popen([sys.executable, str(script), *args], env=env, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              pass_fds=[r for r, _ in pipes]) for _ in range(N)]
    try:
        time.sleep(1.0)  # every racer imported and waiting
        for r, (claim, (_read, write)) in enumerate(zip(claims, pipes)):
            os.write(write, b"x")  # every racer wakes at once
            outs = [p.stdout.readline().strip() for p in procs]  # type: ignore[union-attr]
            assert sorted(outs) == ["False"] * (N - 1) + ["True"], (r, outs)
            winner = procs[outs.index("True")].pid
            assert claim.read_text().split()[0] == str(winner)  # the winner's claim, whole
    finally:
        for _read, write in pipes:
            os.write(write, b"x")  # a failed round: let the racers run through the rest and end
        for p in procs:
            p.communicate(timeout=60)
        for fds in pipes:
            for fd in fds:
                os.close(fd)
    assert [p.returncode for p in procs] == [0] * N
