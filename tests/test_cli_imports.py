"""A command loads what it uses and nothing else: `runwatch tail` or `ls` must start fast on a
loaded login node, so neither imports Textual or Rich, nor another command's module (the
registry in tui/cli/commands.py names modules, imported when their command runs)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .test_cli_support import REPO, env

# Never for a headless command: the app's toolkit, and what only other commands need (the
# SDK's editing side for tag/note, the GPU sampler for top, the query language for ls -f).
NEVER = ("textual", "rich", "textual_image", "pandas", "numpy", "PIL")
OTHERS = {
    "tail": ("tui.cli.edits", "tui.cli.top", "tui.cli.export", "tui.cli.runs", "tui.cli.sweeps",
             "tui.cli.logs", "logger.edit", "logger.nvml", "logger.query", "tui.model.runview"),
    "ls": ("tui.cli.edits", "tui.cli.top", "tui.cli.export", "tui.cli.sweeps", "tui.cli.tail_follow",
           "logger.edit", "logger.nvml", "tui.tail"),
}

PROBE = """
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))
from tui.cli import main
sys.exit(main(sys.argv[1:]))
"""


def loaded(*argv: str) -> set[str]:
    """The modules a real `runwatch ARGV` process held when it ended."""
    proc = subprocess.run([sys.executable, "-c", PROBE, *argv], cwd=REPO, env=env(), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("argv", [["tail", "--help"], ["tail", "{root}", "--no-follow"], ["ls", "{root}"],
                                  ["ls", "--help"]])
def test_a_headless_command_imports_only_its_own(argv: list[str], tmp_path: Path) -> None:
    mods = loaded(*(a.format(root=tmp_path) for a in argv))
    assert "tui.cli.main" in mods  # the probe saw the command run
    toolkit = sorted(m for m in mods if m.split(".")[0] in NEVER)
    assert not toolkit, toolkit
    others = sorted(set(OTHERS[argv[0]]) & mods)
    assert not others, f"`runwatch {argv[0]}` imported other commands' modules: {others}"


def test_the_whole_help_still_lists_every_command() -> None:
    """The full parser (every module) is built for `runwatch --help`, also before a command."""
    from tui.cli import commands

    for argv in (["--help"], ["--help", "tail"]):
        out = subprocess.run([sys.executable, "-m", "tui", *argv], cwd=REPO, env=env(), capture_output=True,
                             text=True, timeout=60).stdout
        for name, _, _ in commands.REGISTRY:
            assert f"\n    {name} " in out, (argv, name)
