"""Signals, exits, forks and chdirs: a script's own handling keeps working, and the run records
how the process really ended. Every test is a real subprocess sent a real signal."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from logger import Api

from .conftest import script_env

SIGTERM_CODE = 128 + signal.SIGTERM

# The preemption pattern (SLURM, spot instances): the handler sets a flag; the loop notices,
# logs its last metrics, saves a checkpoint and exits.
PREEMPTIBLE = """
import os, signal, sys, time
import logger

stop = []
def on_term(sig, frame):
    stop.append(sig)

{before}
run = logger.init(project="p")
{after}
print("ready", flush=True)
step = 0
while not stop and step < 6000:
    logger.log({{"loss": 1.0 / (step + 1)}})
    step += 1
    time.sleep(0.005)
logger.log({{"last": step}})
with open("ckpt.pt", "w") as f:
    f.write("weights")
logger.save("ckpt.pt", policy="now")
logger.summary["stopped_by"] = "signal" if stop else "time"
{exit}
"""


def _start(tmp_path: Path, code: str) -> subprocess.Popen[str]:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(code))
    proc = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path, env=script_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line == "ready", proc.stderr.read() if proc.stderr else line
    return proc


def _signal_and_wait(proc: subprocess.Popen[str], sig: int = signal.SIGTERM) -> tuple[int, str]:
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()  # a hung script must not outlive the test
        proc.communicate()
        raise
    return proc.returncode, err


def _the_run(root: Path):
    (run,) = Api(root).runs("p")
    return run


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize(("exit", "returncode", "state"), [
    ("sys.exit(0)", 0, "finished"),
    ("sys.exit(143)", SIGTERM_CODE, "killed"),
    ("sys.exit(1)", 1, "killed"),
])
def test_a_handlers_preemption_pattern_keeps_every_value(tmp_path, root, where, exit, returncode, state):
    install = "signal.signal(signal.SIGTERM, on_term)"
    proc = _start(tmp_path, PREEMPTIBLE.format(
        before=install if where == "before" else "", after=install if where == "after" else "",
        exit=exit))
    code, err = _signal_and_wait(proc)
    assert code == returncode, err
    assert "RunFinishedError" not in err and "Traceback" not in err, err
    run = _the_run(root)
    assert run.state == state, (run.state, err)
    assert run.summary["stopped_by"] == "signal"
    last = run.summary["last"]
    assert [r["loss"] for r in run.scan_history(keys=["loss"])] == [1.0 / (i + 1) for i in range(last)]
    assert (root / "p" / run.id / "files" / "ckpt.pt").read_text() == "weights"
    if state == "killed":
        assert run.exit_code == returncode and "SIGTERM" in (run.error or "")


@pytest.mark.parametrize("where", ["before", "after"])
def test_a_handler_that_raises_system_exit_ends_the_run_killed_with_its_code(tmp_path, root, where):
    handler = "def on_term(sig, frame):\n    logger.log({'in_handler': 1})\n    raise SystemExit(3)\n"
    install = "signal.signal(signal.SIGTERM, on_term)"
    proc = _start(tmp_path, "import signal, time, logger\n" + handler
                  + (install + "\n" if where == "before" else "")
                  + "run = logger.init(project='p')\n"
                  + (install + "\n" if where == "after" else "")
                  + "print('ready', flush=True)\ntime.sleep(60)\n")
    code, err = _signal_and_wait(proc)
    assert code == 3, err
    run = _the_run(root)
    assert (run.state, run.exit_code, run.summary["in_handler"]) == ("killed", 3, 1)
    assert "SIGTERM" in (run.error or "")


@pytest.mark.parametrize("where", ["before", "after"])
def test_a_handler_that_raises_keyboard_interrupt_ends_the_run_killed(tmp_path, root, where):
    handler = "def on_term(sig, frame):\n    logger.log({'in_handler': 1})\n    raise KeyboardInterrupt\n"
    install = "signal.signal(signal.SIGTERM, on_term)"
    proc = _start(tmp_path, "import signal, time, logger\n" + handler
                  + (install + "\n" if where == "before" else "")
                  + "run = logger.init(project='p')\n"
                  + (install + "\n" if where == "after" else "")
                  + "try:\n    print('ready', flush=True)\n    time.sleep(60)\n"
                  + "except KeyboardInterrupt:\n"
                  + "    logger.log({'cleanup': 1})\n    raise\n")
    code, err = _signal_and_wait(proc)
    assert code == -signal.SIGINT and "KeyboardInterrupt" in err  # how Python exits on it
    run = _the_run(root)
    assert (run.state, run.exit_code) == ("killed", 130)
    assert run.summary["in_handler"] == 1 and run.summary["cleanup"] == 1


def test_a_handler_that_ignores_the_signal_leaves_the_run_running_to_its_end(tmp_path, root):
    proc = _start(tmp_path, """
        import signal, time, logger
        got = []
        signal.signal(signal.SIGTERM, lambda sig, frame: got.append(sig))
        run = logger.init(project="p")
        print("ready", flush=True)
        while not got:
            time.sleep(0.01)
        for i in range(50):
            logger.log({"after": i})
    """)
    code, err = _signal_and_wait(proc)
    assert code == 0, err
    run = _the_run(root)
    assert run.state == "finished" and run.summary["after"] == 49


def test_getsignal_reports_the_scripts_handler_and_sig_dfl_still_kills(tmp_path, root):
    proc = _start(tmp_path, """
        import signal, time, logger
        def mine(sig, frame): pass
        run = logger.init(project="p")
        assert signal.signal(signal.SIGTERM, mine) is signal.SIG_DFL
        assert signal.getsignal(signal.SIGTERM) is mine
        assert signal.signal(signal.SIGTERM, signal.SIG_DFL) is mine
        logger.log({"a": 1})
        print("ready", flush=True)
        time.sleep(60)
    """)
    code, err = _signal_and_wait(proc)
    assert code == -signal.SIGTERM, err
    run = _the_run(root)
    assert (run.state, run.exit_code, run.summary["a"]) == ("killed", SIGTERM_CODE, 1)


# Scaffolding inside the script, not a stand-in for what is tested: finish() copies a file
# saved with policy="end", and the copy says "ready" and waits, so the signal lands mid-finish.
IN_FINISH = """
import os, signal, sys, time
import logger.files

copy = logger.files._copy_into
def slow_copy(src, dest):
    print("ready", flush=True)
    time.sleep(1.0)
    copy(src, dest)
logger.files._copy_into = slow_copy
open("end.bin", "wb").write(b"x" * 1000)
"""


def test_sigterm_during_finish_loses_no_step_and_not_the_finish(tmp_path, root):
    proc = _start(tmp_path, IN_FINISH + textwrap.dedent("""
        import logger
        run = logger.init(project="p")
        run.save("end.bin", policy="end")
        for i in range(20000):
            run.log({"i": i}, commit=(i % 2 == 1))
        run.finish()
        time.sleep(60)
    """))
    code, err = _signal_and_wait(proc)
    assert code == -signal.SIGTERM, err
    run = _the_run(root)
    assert run.state == "finished"  # the finish it was in, then the signal's default action
    assert [r["i"] for r in run.scan_history(keys=["i"])] == list(range(1, 20000, 2))
    assert (root / "p" / run.id / "files" / "end.bin").stat().st_size == 1000


def test_finish_from_a_handler_while_finish_runs_is_a_no_op(tmp_path, root):
    proc = _start(tmp_path, IN_FINISH + textwrap.dedent("""
        import logger
        run = logger.init(project="p")
        signal.signal(signal.SIGTERM, lambda s, f: run.finish(exit_code=5))
        run.save("end.bin", policy="end")
        run.log({"a": 1})
        run.finish()
        print("done", file=sys.stderr)
    """))
    code, err = _signal_and_wait(proc)
    assert code == 0, err
    run = _the_run(root)
    assert run.summary["a"] == 1 and run.state == "finished" and "done" in err


def test_a_forked_child_warns_once_for_module_and_run_log_and_writes_nothing(tmp_path, root):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent("""
        import os, sys, logger
        run = logger.init(project="p")
        run.log({"parent": 1})
        pid = os.fork()
        if pid == 0:
            logger.log({"child": 1})
            run.log({"child": 2})
            logger.log({"child": 3})
            run.finish()
            logger.finish()
            sys.stderr.flush()
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        assert status == 0, status
        run.log({"parent": 2})
    """))
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=script_env(),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("forked from the one that started run") == 1, proc.stderr
    run = _the_run(root)
    assert run.state == "finished" and "child" not in run.summary and run.summary["parent"] == 2
    assert len(list((root / "p" / run.id).glob("*.rws"))) == 1


def test_chdir_after_init_moves_neither_save_nor_artifacts(tmp_path, root):
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    script = work / "train.py"
    script.write_text(textwrap.dedent("""
        import os, logger
        open("live.txt", "w").write("v1")
        run = logger.init(project="p")
        logger.save("live.txt")
        os.chdir("sub")
        open("late.txt", "w").write("late")
        logger.save("late.txt", policy="now")
        logger.log_artifact("late.txt", name="notes", type="text")
        print(run.dir)
    """))
    env = script_env()
    env.pop("RUNWATCH_DIR")
    proc = subprocess.run([sys.executable, str(script)], cwd=work, env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert not (work / "sub" / "runs").exists()
    (run,) = Api(work / "runs").runs("p")
    files = work / "runs" / "p" / run.id / "files"
    assert (files / "live.txt").read_text() == "v1" and (files / "late.txt").read_text() == "late"
    assert proc.stdout.strip().startswith(str(work / "runs" / "p" / run.id))
    assert Api(work / "runs").artifact("p/notes:latest") is not None


def test_sigterm_during_inits_first_write_neither_hangs_nor_loses_the_run(tmp_path, root):
    # Scaffolding: init's first flush says "ready" and waits, so the signal lands inside it.
    proc = _start(tmp_path, """
        import time, logger.writer
        flush = logger.writer.SegmentWriter.flush
        def slow_flush(self, fsync=False):
            print("ready", flush=True)
            time.sleep(1.0)
            return flush(self, fsync)
        logger.writer.SegmentWriter.flush = slow_flush
        import logger
        run = logger.init(project="p")
        logger.writer.SegmentWriter.flush = flush
        time.sleep(60)
    """)
    code, err = _signal_and_wait(proc)
    assert code == -signal.SIGTERM, err
    run = _the_run(root)
    assert (run.state, run.exit_code) == ("killed", SIGTERM_CODE)


@pytest.mark.parametrize("where", ["before", "after"])
def test_a_sigint_handler_runs_with_the_run_live_and_the_exit_decides(tmp_path, root, where):
    install = "signal.signal(signal.SIGINT, on_term)"
    proc = _start(tmp_path, PREEMPTIBLE.format(
        before=install if where == "before" else "", after=install if where == "after" else "",
        exit="sys.exit(1)"))
    code, err = _signal_and_wait(proc, signal.SIGINT)
    assert code == 1, err
    run = _the_run(root)
    assert (run.state, run.exit_code, run.summary["stopped_by"]) == ("killed", 1, "signal")
    assert "SIGINT" in (run.error or "")
