"""`runwatch ls` and `show` start with what they use: not the app's run model (RunView's module
holds the charts, palette and plots; ls needs only when a run last logged, tui/model/stall.py),
not dataclasses (inspect, ast: the Command registry is a NamedTuple), nor what only a missing
run's suggestion, a run's files or a sampled stream need (difflib, mimetypes, shutil, random).
Real processes reading a real run; the modules are what they held when they ended."""

from __future__ import annotations

import pytest

from .conftest import run_script
from .test_cli_imports import loaded

UNUSED = ("tui.model.runview", "tui.model.plot", "tui.model.palette", "tui.model.system_plots",
          "dataclasses", "difflib", "mimetypes", "shutil", "random", "getpass", "logger.sdk",
          "logger.run", "logger.writer")


@pytest.mark.parametrize("command", ["ls", "show"])
def test_a_listing_command_leaves_what_it_does_not_use_unloaded(tmp_path, command: str) -> None:
    root = tmp_path / "runs"
    run_script(tmp_path, f"""
        import logger
        run = logger.init(project="p", name="only", dir={str(root)!r})
        run.log({{"loss": 0.5}})
        run.finish()
    """)
    argv = ["ls", str(root)] if command == "ls" else ["show", "p/only", "--root", str(root)]
    mods = loaded(*argv)
    assert "tui.cli.runs" in mods  # the probe saw the command run
    assert sorted(set(UNUSED) & mods) == []
