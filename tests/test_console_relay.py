"""The console relay: what a script wrote before a SIGKILL reaches the terminal and, up to the
flush interval, the run; a Ctrl-C or a killed relay costs nothing; no process is left behind.
Real processes, real ptys and pipes."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from logger.streams import console_lines

from .conftest import script_env
from .test_console import terminal_lines

N = 300
PRINTS_AND_DIES = f"""
    import os, signal, sys, time
    import logger
    logger.init(project="p", dir=os.environ["ROOT"])
    for i in range(20):
        print(f"early {{i}}")
    sys.stdout.flush()
    time.sleep(1.0)  # well past the flush interval: these are stored
    for i in range({N}):  # then lines as fast as Python prints, and SIGKILL at once
        if i % 10 == 9:
            sys.stderr.write(f"line {{i}}\\n")
        else:
            print(f"line {{i}}")
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _write(tmp_path: Path, code: str) -> Path:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(code))
    return script


def _read_to_end(fds: list[int], timeout: float = 30) -> dict[int, bytes]:
    """Everything written to `fds` until every writer has closed them (the relay included)."""
    got = {fd: bytearray() for fd in fds}
    open_fds, deadline = set(fds), time.monotonic() + timeout
    while open_fds:
        assert time.monotonic() < deadline, f"still open after {timeout}s: {got}"
        for fd in select.select(list(open_fds), [], [], 0.5)[0]:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: a pty whose every writer has gone
                data = b""
            if data:
                got[fd] += data
            else:
                open_fds.discard(fd)
    return {fd: bytes(b) for fd, b in got.items()}


def _stored(root: Path) -> list[str]:
    (run_dir,) = (root / "p").iterdir()
    return [text for _t, stream, text in console_lines(run_dir) if stream != "note"]


def _run_to_death(script: Path, root: Path, how: str) -> list[str]:
    """Run `script` with fds 1 and 2 on one pty, or on two pipes; the lines the terminal showed."""
    env = script_env(ROOT=str(root), RUNWATCH_SYSTEM_INTERVAL="0")
    if how == "pty":
        master, slave = pty.openpty()
        proc = subprocess.Popen([sys.executable, str(script)], stdout=slave, stderr=slave, env=env)
        os.close(slave)
        fds = [master]
    else:
        (out_r, out_w), (err_r, err_w) = os.pipe(), os.pipe()
        proc = subprocess.Popen([sys.executable, str(script)], stdout=out_w, stderr=err_w, env=env)
        os.close(out_w)
        os.close(err_w)
        fds = [out_r, err_r]
    try:
        raw = _read_to_end(fds)
        assert proc.wait(10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        for fd in fds:
            os.close(fd)
    return [line for fd in fds for line in terminal_lines(raw[fd])]


@pytest.mark.parametrize("how", ["pty", "pipes"])
def test_every_line_before_a_sigkill_reaches_the_terminal_and_the_store_keeps_all_but_the_last(
        root: Path, tmp_path: Path, how: str) -> None:
    shown = _run_to_death(_write(tmp_path, PRINTS_AND_DIES), root, how)
    lines = [f"line {i}" for i in range(N)]
    early = [f"early {i}" for i in range(20)]
    if how == "pty":  # one terminal: both streams on it, in the order written
        assert shown == early + lines
    else:  # two pipes: each in its own order
        assert sorted(shown) == sorted(early + lines)
        assert [s for s in shown if s.endswith("9") and s.startswith("line")] == lines[9::10]
    # What came in the last flush interval may be missing; never out of order, never made up.
    (run_dir,) = (root / "p").iterdir()
    stored = [(stream, text) for _t, stream, text in console_lines(run_dir) if stream != "note"]
    if how == "pty":
        want = {"output": early + lines}
    else:
        want = {"stdout": early + [s for s in lines if s not in lines[9::10]], "stderr": lines[9::10]}
    for stream, expected in want.items():
        got = [text for s, text in stored if s == stream]
        assert got == expected[:len(got)]
    assert [text for _s, text in stored][:20] == early  # a second before the kill: stored


def test_a_ctrl_c_on_the_terminal_does_not_end_the_relay_before_it_has_copied(
        root: Path, tmp_path: Path) -> None:
    script = _write(tmp_path, f"""
        import os, signal, sys, time
        got = []
        signal.signal(signal.SIGINT, lambda *a: got.append(1))  # the script carries on
        import logger
        logger.init(project="p", dir=os.environ["ROOT"])
        print("READY", flush=True)
        while not got:
            time.sleep(0.01)
        time.sleep(0.3)  # the relay had it too
        for i in range({N}):
            print(f"line {{i}}")
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    env = script_env(ROOT=str(root), RUNWATCH_SYSTEM_INTERVAL="0")
    pid, master = pty.fork()  # a session of its own, with this pty as its controlling terminal
    if pid == 0:
        os.execve(sys.executable, [sys.executable, str(script)], env)
    try:
        seen = b""
        while b"READY" not in seen:
            assert select.select([master], [], [], 30)[0], f"no READY in {seen!r}"
            seen += os.read(master, 65536)
        os.write(master, b"\x03")  # Ctrl-C: SIGINT to the terminal's foreground process group
        raw = seen + _read_to_end([master])[master]
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    finally:
        os.close(master)
    shown = [s.removeprefix("^C") for s in terminal_lines(raw)]  # the terminal echoes it
    assert not [s for s in shown if "relay" in s], shown
    assert [s for s in shown if s.startswith("line")] == [f"line {i}" for i in range(N)]


def test_a_killed_relay_leaves_the_script_running_and_its_output_on_the_terminal(
        root: Path, tmp_path: Path) -> None:
    script = _write(tmp_path, """
        import os, signal, sys, time
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # a write to a pipe with no reader kills
        import logger
        from logger import capture
        logger.init(project="p", dir=os.environ["ROOT"])
        (cap,) = capture._captures.values()
        print("before", flush=True)
        time.sleep(0.3)
        os.kill(cap.console.link.pid, signal.SIGKILL)
        time.sleep(0.3)
        for i in range(50):
            print(f"after {i}", flush=True)
            os.write(2, b"raw %d\\n" % i)
        logger.finish()
        print("done", flush=True)
    """)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                          env=script_env(ROOT=str(root), RUNWATCH_SYSTEM_INTERVAL="0"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["before", *(f"after {i}" for i in range(50)), "done"]
    assert "console relay has exited" in proc.stderr
    assert [s for s in proc.stderr.splitlines() if s.startswith("raw")] == [f"raw {i}" for i in range(50)]
    stored = _stored(root)
    assert [s for s in stored if not s.startswith("raw")] == ["before", *(f"after {i}" for i in range(50))]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _gone(pid: int) -> None:
    """`pid` exits within seconds (an orphan's zombie is its init's to reap)."""
    deadline = time.monotonic() + 5
    while _alive(pid):
        assert time.monotonic() < deadline, f"the relay {pid} outlived every writer"
        time.sleep(0.05)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_the_relay_copies_forked_and_spawned_children_and_is_not_left_behind(
        root: Path, tmp_path: Path, method: str) -> None:
    script = _write(tmp_path, """
        import multiprocessing as mp, os, subprocess, sys
        import logger
        from logger import capture

        def work(tag):
            print("from", tag, flush=True)

        if __name__ == "__main__":
            logger.init(project="p", dir=os.environ["ROOT"])
            (cap,) = capture._captures.values()
            print("relay", cap.console.link.pid, flush=True)
            p = mp.get_context(sys.argv[1]).Process(target=work, args=(sys.argv[1],))
            p.start()
            p.join()
            subprocess.run([sys.executable, "-c", "print('from subprocess')"])
            pid = os.fork()
            if pid == 0:
                print("from os.fork", flush=True)
                os._exit(0)
            os.waitpid(pid, 0)
            logger.finish()
    """)
    proc = subprocess.run([sys.executable, str(script), method], capture_output=True, text=True,
                          timeout=60, env=script_env(ROOT=str(root), RUNWATCH_SYSTEM_INTERVAL="0"))
    assert proc.returncode == 0, proc.stderr
    relay = int(proc.stdout.split()[1])
    if method == "fork":  # no writer outlived finish(): the script waited for the relay's exit
        assert not _alive(relay), "the relay outlived the script"  # (not its child: init reaps it)
    else:  # spawn's resource tracker holds fd 1 until the script has gone: the relay waits for it
        _gone(relay)
    want = [f"from {method}", "from subprocess", "from os.fork"]
    assert proc.stdout.splitlines()[1:] == want
    assert _stored(root)[1:] == want


def test_after_a_sigkill_the_relay_exits_once_the_last_writer_has(root: Path, tmp_path: Path) -> None:
    script = _write(tmp_path, """
        import os, signal, subprocess, sys, time
        import logger
        from logger import capture
        logger.init(project="p", dir=os.environ["ROOT"])
        (cap,) = capture._captures.values()
        print("relay", cap.console.link.pid, flush=True)
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1); print('child still here')"])
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                          env=script_env(ROOT=str(root), RUNWATCH_SYSTEM_INTERVAL="0"))
    assert proc.returncode == -signal.SIGKILL
    # The orphaned child's output still reached the terminal, after its parent died.
    assert proc.stdout.splitlines()[1:] == ["child still here"]
    _gone(int(proc.stdout.split()[1]))
