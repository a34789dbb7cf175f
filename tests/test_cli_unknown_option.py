"""An option a command does not know is that command's error, shown with its own usage: argparse
handed it up to the top level (`usage: runwatch [ROOT] [--poll]`, `runwatch: error: ...`), as if
the whole command line were wrong rather than one option of `ls` or `demo`."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(("argv", "unknown"), [(["ls", "--bogus"], "--bogus"), (["demo", "--root", "x"], "--root"),
                                              (["export", "p", "--nope"], "--nope")])
def test_an_unknown_option_names_its_command_and_shows_its_usage(tmp_path, argv, unknown):
    done = subprocess.run([sys.executable, "-m", "tui", *argv], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert f"usage: runwatch {argv[0]} " in done.stderr
    assert f"runwatch {argv[0]}: error: unrecognized arguments: {unknown}\n" in done.stderr
    assert "usage: runwatch [ROOT]" not in done.stderr


def test_exec_still_passes_every_argument_to_its_command(tmp_path):
    done = subprocess.run([sys.executable, "-m", "tui", "exec", "--", sys.executable, "-c",
                           "import sys; print(sys.argv[1:])", "--lr", "1"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "['--lr', '1']" in done.stdout
