"""A mistyped command is named, not taken for a root: `runwatch expor ...` used to wait on a
directory named expor (stdout a pipe: tail) or open the app on it (a terminal), and with
arguments after it said only what argparse says of the app's options. Real processes."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from .test_cli_support import env

TYPO = ("runwatch: 'expor' is not a command or a directory; did you mean 'export'?")


def runwatch(cwd: Path, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", *args], cwd=cwd, env=env(), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)


def test_a_mistyped_command_and_its_arguments_get_a_suggestion_and_exit_2(tmp_path):
    for argv in (["expor"], ["expor", "my-project", "-o", "history.csv"], ["--poll", "expor"],
                 ["EXPOR", "--help"]):
        proc = runwatch(tmp_path, *argv)
        word = "EXPOR" if "EXPOR" in argv else "expor"
        assert proc.returncode == 2, (argv, proc.stderr)
        assert proc.stderr.splitlines()[0] == TYPO.replace("'expor'", repr(word)), (argv, proc.stderr)
        assert proc.stdout == ""
    assert list(tmp_path.iterdir()) == []  # nothing was written, no export, no root made


def test_a_word_is_a_typo_only_when_it_is_no_directory_and_near_a_command(tmp_path):
    assert runwatch(tmp_path, "lss").stderr.startswith(
        "runwatch: 'lss' is not a command or a directory; did you mean 'ls'?")
    (tmp_path / "lss").mkdir()  # an existing directory is a root, whatever its name
    for word in ("lss", "frobnicate"):  # and a word far from every command is one still
        proc = subprocess.Popen([sys.executable, "-m", "tui", word], cwd=tmp_path, env=env(),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        try:
            assert proc.stderr is not None
            first = proc.stderr.readline()
            assert "running `runwatch tail` instead" in first, (word, first)
            time.sleep(0.5)
            assert proc.poll() is None, (word, proc.stderr.read())  # tail follows that root
        finally:
            proc.kill()
            proc.communicate()


def _on_a_terminal(cwd: Path, *args: str, timeout: float = 30) -> tuple[int, str]:
    """Run `runwatch ARGS` with a pty as its terminal; (exit code, what it printed)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "tui", *args], cwd=cwd, env=env(TERM="xterm"),
                            stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
        try:  # the terminal closed: the process is ending (or the app is drawing, and stays)
            code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running (the app opened?): {out[-500:]!r}") from None
        return code, out.decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        os.close(master)


def test_a_mistyped_command_on_a_terminal_gets_the_suggestion_not_the_app(tmp_path):
    code, out = _on_a_terminal(tmp_path, "expor")
    assert code == 2, out
    assert TYPO in out.replace("\r\n", "\n")
    assert list(tmp_path.iterdir()) == []
