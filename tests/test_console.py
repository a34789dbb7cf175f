"""Console capture, for real: scripts in subprocesses writing through real pipes and ptys, killed
with SIGKILL, read back through the API, output.log and `runwatch logs`."""

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

import logger
from logger import events as ev
from logger.console import Recorder
from logger.segment import SegmentReader
from logger.streams import OutputRenderer, console_lines

from .conftest import REPO, run_script, script_env

PRINTS = """
    import os, subprocess, sys, time
    import logger
    logger.init(project="p", dir=os.environ["ROOT"], console=os.environ.get("MODE", "auto"))
    print("from python", flush=True)
    os.write(1, b"from os.write, as a C extension would\\n")
    subprocess.run([sys.executable, "-c", "import os; print('child isatty', os.isatty(1))"])
    for i in range(6):
        sys.stderr.write(f"\\r{i * 20:3d}%|{'#' * i:<5}|")
        sys.stderr.flush()
        time.sleep(0.03)
    sys.stderr.write("\\n")
    print("\\x1b[32mgreen\\x1b[0m", flush=True)
    sys.stderr.write("\\r 10%|#    |"); sys.stderr.flush()
    sys.stderr.write("\\r 40%|##   |"); sys.stderr.flush()
    print("READY", flush=True)
    time.sleep(60)
"""


def terminal_lines(raw: bytes) -> list[str]:
    """What a terminal showed for `raw`: each line at its last carriage-return redraw."""
    out = []
    for line in raw.decode().replace("\r\n", "\n").split("\n"):
        shown: list[str] = []
        for part in line.split("\r"):
            shown[: len(part)] = part
        out.append("".join(shown))
    return [line for line in out if line]


def stored(root: Path) -> list[tuple[str, str]]:
    (run_dir,) = (root / "p").iterdir()
    return [(stream, text) for _t, stream, text in console_lines(run_dir) if stream != "note"]


def _read_until(fds: dict[int, bytearray], marker: bytes, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not any(marker in buf for buf in fds.values()):
        assert time.monotonic() < deadline, f"no {marker!r} in {dict(fds)}"
        for fd in select.select(list(fds), [], [], 0.5)[0]:
            fds[fd] += os.read(fd, 65536)


def _drain(fds: dict[int, bytearray]) -> None:
    for fd in fds:
        while select.select([fd], [], [], 0.2)[0]:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            fds[fd] += data


def _kill_after_ready(root: Path, tmp_path: Path, out_fd: int, err_fd: int,
                      reads: dict[int, bytearray], mode: str = "auto") -> None:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(PRINTS))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=out_fd, stderr=err_fd,
                            env=script_env(ROOT=str(root), MODE=mode, RUNWATCH_SYSTEM_INTERVAL="0"),
                            cwd=tmp_path)
    try:
        _read_until(reads, b"READY")
        # READY and the open bar are stored (an open bar's 1 s, then the flush intervals: ~1.2 s,
        # more loaded); each stream's earlier lines are stored before them.
        deadline = time.monotonic() + 60
        while not all(any(want in text for _s, text in stored(root)) for want in ("READY", " 40%|##   |")):
            assert time.monotonic() < deadline, f"the open bar was never stored: {stored(root)}"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    _drain(reads)


EXPECTED = [
    ("stdout", "from python"), ("stdout", "from os.write, as a C extension would"),
    ("stderr", "100%|#####|"), ("stdout", "\x1b[32mgreen\x1b[0m"), ("stdout", "READY"),
    ("stderr", " 40%|##   |"),
]


def _same_as_expected(got: list[tuple[str, str]]) -> None:
    """Each stream's lines in order; across the two streams, writes less than a read of the
    capture thread apart (~1 ms) may come in either order (two pipes cannot tell)."""
    for stream in ("stdout", "stderr"):
        assert [g for g in got if g[0] == stream] == [e for e in EXPECTED if e[0] == stream]
    assert sorted(got) == sorted(EXPECTED)


def test_sigkilled_script_through_pipes_keeps_what_the_terminal_showed(root: Path, tmp_path: Path) -> None:
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    reads = {out_r: bytearray(), err_r: bytearray()}
    _kill_after_ready(root, tmp_path, out_w, err_w, reads)
    os.close(out_w)
    os.close(err_w)
    got = stored(root)
    assert ("stdout", "child isatty False") in got  # a subprocess, captured at fd level
    _same_as_expected([g for g in got if "isatty" not in g[1]])
    # Everything the terminal showed, byte for byte, and nothing more.
    shown = terminal_lines(bytes(reads[out_r])) + terminal_lines(bytes(reads[err_r]))
    assert sorted(shown) == sorted(text for _s, text in got)
    (run_dir,) = (root / "p").iterdir()
    assert logger.Api(root).run(f"p/{run_dir.name}").state == "crashed"


def test_sigkilled_script_on_a_terminal_keeps_it_a_terminal(root: Path, tmp_path: Path) -> None:
    master, slave = pty.openpty()
    reads = {master: bytearray()}
    _kill_after_ready(root, tmp_path, slave, slave, reads)
    os.close(slave)
    got = stored(root)
    assert ("output", "child isatty True") in got  # fds 1 and 2 are a pty, not a pipe
    # One terminal shows both streams on one cursor, in the order written: the run keeps
    # them as it drew them, line for line (the open bar and "READY" share a line there).
    assert [text for _s, text in got] == terminal_lines(bytes(reads[master]))
    assert got[-1] == ("output", " 40%|##   |READY")


def test_finish_restores_the_fds_without_waiting_for_a_child_holding_the_pipe(root: Path, tmp_path: Path) -> None:
    proc = run_script(tmp_path, """
        import os, subprocess, sys, time
        import logger
        before = os.readlink("/proc/self/fd/1"), os.readlink("/proc/self/fd/2")
        logger.init(project="p", console="redirect")
        child = subprocess.Popen(["sleep", "30"])  # holds the pipe's write end
        print("captured", flush=True)
        t = time.monotonic()
        logger.finish()
        print(f"finish took {time.monotonic() - t:.2f}", flush=True)
        assert (os.readlink("/proc/self/fd/1"), os.readlink("/proc/self/fd/2")) == before
        child.kill()
    """, timeout=30)
    assert "captured" in proc.stdout
    took = float(proc.stdout.split("finish took ")[1].split()[0])
    assert took < 1.5
    assert [text for _s, text in stored(root)] == ["captured"]


def test_a_scripts_own_stdout_replacement_keeps_working(root: Path, tmp_path: Path) -> None:
    code = """
        import io, sys
        import logger
        class Upper(io.TextIOBase):
            def write(self, s):
                return sys.__stdout__.write(s.upper())
        logger.init(project="p", console="{mode}")
        sys.stdout = mine = Upper()
        print("shout")
        logger.finish()
        assert sys.stdout is mine
        sys.__stdout__.flush()
    """
    proc = run_script(tmp_path, code.replace("{mode}", "redirect"))
    assert proc.stdout == "SHOUT\n"
    assert stored(root) == [("stdout", "SHOUT")]  # what reached fd 1


def test_wrap_mode_captures_python_level_writes(root: Path, tmp_path: Path) -> None:
    proc = run_script(tmp_path, """
        import os, sys
        import logger
        logger.init(project="p", console="wrap")
        print("wrapped")
        sys.stderr.write("err\\n")
        logger.finish()
        print("after")
        assert type(sys.stdout).__name__ != "_Tee"
    """)
    assert proc.stdout == "wrapped\nafter\n"
    assert stored(root) == [("stdout", "wrapped"), ("stderr", "err")]


@pytest.mark.parametrize("how", [{"WANDB_CONSOLE": "off"}, {"RUNWATCH_CONSOLE": "off"}])
def test_console_off_stores_nothing(root: Path, tmp_path: Path, how: dict[str, str]) -> None:
    run_script(tmp_path, """
        import logger
        logger.init(project="p")
        print("not stored")
        logger.finish()
    """, RUNWATCH_SYSTEM_INTERVAL="0", **how)
    assert stored(root) == []


def test_a_bad_console_setting_is_refused_with_what_to_use(root: Path) -> None:
    with pytest.raises(ValueError, match=r"console='loud'.*'auto', 'redirect', 'wrap' or 'off'"):
        logger.init(project="p", settings=logger.Settings(console="loud"))
    assert not (root / "p").exists()


def test_stored_output_is_bounded_with_a_note(root: Path, tmp_path: Path) -> None:
    proc = run_script(tmp_path, """
        import logger
        logger.init(project="p")
        for i in range(500):
            print(f"line {i:04d} " + "x" * 40)
        logger.finish()
    """, RUNWATCH_CONSOLE_LIMIT="2000", RUNWATCH_SYSTEM_INTERVAL="0")
    assert proc.stdout.count("\n") == 500  # the terminal still shows all of it
    (run_dir,) = (root / "p").iterdir()
    lines = list(console_lines(run_dir))
    text = [t for _t, s, t in lines if s != "note"]
    assert 0 < sum(len(t) + 1 for t in text) <= 2000
    assert any("past 2,000 characters is not stored" in t for _t, s, t in lines if s == "note")


def test_hostile_console_line_is_escaped_by_runwatch_logs(root: Path, tmp_path: Path) -> None:
    run_script(tmp_path, r"""
        import logger
        logger.init(project="p")
        print("\x1b]52;c;cm0gLXJmIH4=\x07 \x1b[2J \x1b[31mred\x1b[0m \u202eevil")
        logger.finish()
    """, RUNWATCH_SYSTEM_INTERVAL="0")
    (run_dir,) = (root / "p").iterdir()
    out = subprocess.run([sys.executable, "-m", "tui", "logs", run_dir.name, "--root", str(root)],
                         capture_output=True, env=script_env(), cwd=REPO, timeout=60)
    assert out.returncode == 0, out.stderr
    assert b"\x1b" not in out.stdout and b"\x07" not in out.stdout
    assert out.stdout.decode() == "\\x1b]52;c;cm0gLXJmIH4=\\x07 \\x1b[2J red \\u202eevil\n"
    # output.log keeps what the script wrote, colours included (W&B's file does too).
    path = tmp_path / "dl"
    with logger.Api(root).run(f"p/{run_dir.name}").file("output.log").download(path) as f:
        assert "\x1b[31mred\x1b[0m" in f.read()


def test_runwatch_logs_follows_a_live_run_and_greps(root: Path, tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent("""
        import time
        import logger
        logger.init(project="p", name="live")
        for i in range(8):
            print(f"epoch {i} {'ok' if i % 2 else 'ERROR'}", flush=True)
            time.sleep(0.25)
        logger.finish()
    """))
    train = subprocess.Popen([sys.executable, str(script)], env=script_env(RUNWATCH_SYSTEM_INTERVAL="0"),
                             cwd=tmp_path, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not list((root / "p").glob("*/*.rws")):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        logs = subprocess.run([sys.executable, "-m", "tui", "logs", "live", "--root", str(root), "-f",
                               "--grep", "ERROR"], capture_output=True, text=True, env=script_env(),
                              cwd=REPO, timeout=60)
    finally:
        train.wait(30)
    assert logs.returncode == 0, logs.stderr
    assert logs.stdout.splitlines() == [f"epoch {i} ERROR" for i in (0, 2, 4, 6)]


def test_recorder_collapses_redraws_and_keeps_stream_order() -> None:
    out: list[ev.ConsoleChunk] = []
    rec = Recorder(out.append, lambda: 1.0)
    rec.feed("stdout", "abcdef\rxy\n")  # a terminal shows "xycdef"
    rec.feed("stderr", "  0%\r 50%\r100%\r\n")
    rec.feed("stderr", "1/3 [=>  ]\b\b\b\b\b\b\b\b\b\b3/3 [====]\n")  # Keras steps back
    rec.feed("stdout", "no newline yet")
    rec.flush()
    rec.feed("stdout", "\rredrawn\n")
    rec.flush(final=True)
    renderer = OutputRenderer()
    lines = [(s, t) for c in out for _t, s, t in renderer.feed(c)]
    assert lines == [("stdout", "xycdef"), ("stderr", "100%"), ("stderr", "3/3 [====]"),
                     ("stdout", "redrawnine yet")]  # overwritten, as a terminal does
    assert "".join(c.text for c in out).count("50%") == 0  # redraws are not stored


def test_console_chunks_follow_the_user_history_apart(root: Path, tmp_path: Path) -> None:
    run_script(tmp_path, """
        import logger
        logger.init(project="p")
        print("hello")
        logger.log({"loss": 1.0})
        logger.finish()
    """, RUNWATCH_SYSTEM_INTERVAL="0")
    (run_dir,) = (root / "p").iterdir()
    run = logger.Api(root).run(f"p/{run_dir.name}")
    assert [sorted(r) for r in run.scan_history()] == [["_runtime", "_step", "_timestamp", "loss"]]
    (seg,) = run_dir.glob("*.rws")
    kinds = [type(e).__name__ for e in SegmentReader(seg).read_new()]
    assert kinds.index("ConsoleChunk") < kinds.index("Finish")


def test_a_traceback_and_a_forked_childs_output_are_captured(root: Path, tmp_path: Path) -> None:
    proc = run_script(tmp_path, """
        import os
        import logger
        logger.init(project="p")
        pid = os.fork()
        if pid == 0:  # a DataLoader worker: its output goes through the parent's capture
            print("from the forked child", flush=True)
            os._exit(0)
        os.waitpid(pid, 0)
        raise RuntimeError("diverged at step 3")
    """, check=False, RUNWATCH_SYSTEM_INTERVAL="0")
    assert proc.returncode == 1 and "diverged" in proc.stderr
    got = stored(root)
    assert ("stdout", "from the forked child") in got
    assert ("stderr", "Traceback (most recent call last):") in got
    assert got[-1] == ("stderr", "RuntimeError: diverged at step 3")
    assert only_state(root) == "failed"


def test_sigterm_finishes_the_run_with_its_console_and_exits(root: Path, tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent("""
        import time
        import logger
        logger.init(project="p")
        print("READY", flush=True)
        time.sleep(60)
    """))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                            env=script_env(RUNWATCH_SYSTEM_INTERVAL="0"), cwd=tmp_path)
    assert proc.stdout is not None and proc.stdout.readline() == b"READY\n"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == -signal.SIGTERM
    proc.stdout.close()
    assert stored(root) == [("stdout", "READY")]
    assert only_state(root) == "killed"


def only_state(root: Path) -> str:
    (run_dir,) = (root / "p").iterdir()
    return logger.Api(root).run(f"p/{run_dir.name}").state


def test_after_finish_a_child_still_holding_the_pipe_reaches_the_terminal_cheaply(
        root: Path, tmp_path: Path) -> None:
    proc = run_script(tmp_path, """
        import os, subprocess, sys, time
        import logger
        logger.init(project="p", console="redirect")
        child = subprocess.Popen([sys.executable, "-c",
                                  "import time\\nfor i in range(4):\\n print('child', i, flush=True); time.sleep(0.3)"])
        time.sleep(0.1)
        logger.finish()
        t = os.times()
        child.wait()
        time.sleep(0.3)
        used = os.times()
        print(f"cpu {used.user + used.system - t.user - t.system:.3f}", flush=True)
    """, timeout=60, RUNWATCH_SYSTEM_INTERVAL="0")
    assert [f"child {i}" for i in range(4)] == [s for s in proc.stdout.splitlines() if s.startswith("child")]
    assert float(proc.stdout.split("cpu ")[1]) < 0.3  # the copying thread waits; it does not spin
    assert [text for _s, text in stored(root)] == ["child 0"]  # what came before finish


def test_output_log_downloads_as_wandb_does(root: Path, tmp_path: Path) -> None:
    run_script(tmp_path, """
        import logger
        logger.init(project="p")
        print("one")
        print("two")
        logger.finish()
    """, RUNWATCH_SYSTEM_INTERVAL="0")
    run = logger.Api(root).run(f"p/{next((root / 'p').iterdir()).name}")
    f = run.file("output.log")
    assert f.size == len("one\ntwo\n")
    with f.download(tmp_path / "dl") as got:
        assert got.read() == "one\ntwo\n"
    with pytest.raises(ValueError, match="replace=True"):
        f.download(tmp_path / "dl")
    f.download(tmp_path / "dl", exist_ok=True).close()
    f.download(tmp_path / "dl", replace=True).close()
    with pytest.raises(ValueError, match="stream='metrics'.*'default'.*'system'"):
        run.history(stream="metrics")


def test_wrap_capture_in_a_forked_child_passes_writes_on(root: Path, tmp_path: Path) -> None:
    proc = run_script(tmp_path, """
        import os, threading, time
        import logger
        from logger import capture
        logger.init(project="p", console="wrap")
        (cap,) = capture._captures.values()
        held, done = threading.Event(), threading.Event()

        def hold():  # the flusher thread holding the recorder's lock at the moment of fork
            with cap.recorder._lock:
                held.set()
                done.wait(5)

        threading.Thread(target=hold).start()
        held.wait()
        pid = os.fork()
        if pid == 0:
            print("child", flush=True)  # a lock held by a thread the child does not have
            os._exit(0)
        os.waitpid(pid, 0)
        done.set()
        logger.finish()
    """, timeout=30, RUNWATCH_SYSTEM_INTERVAL="0")
    assert proc.stdout == "child\n"


def test_a_resized_terminal_is_seen_through_the_capture(root: Path, tmp_path: Path) -> None:
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent("""
        import shutil, sys, time
        import logger
        logger.init(project="p")
        print("size", shutil.get_terminal_size().columns, flush=True)
        sys.stdin.readline()  # the test resizes the terminal, then says go
        time.sleep(0.5)
        print("size", shutil.get_terminal_size().columns, flush=True)
        logger.finish()
    """))
    proc = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE, stdout=slave,
                            stderr=slave, env=script_env(RUNWATCH_SYSTEM_INTERVAL="0"), cwd=tmp_path)
    reads = {master: bytearray()}
    try:
        _read_until(reads, b"size 100")
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 132, 0, 0))
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        proc.stdin.close()
        _read_until(reads, b"size 132")
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(slave)
        os.close(master)
