"""Shared fixtures: a fresh run root per test, and scripts run as real subprocesses."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    # A suite started in the background (`cmd &`, nohup) inherits SIGINT ignored, and so would
    # every script it starts: the Ctrl-C tests would then wait forever. Children of a handled
    # signal get the default action at exec, so handle it here as Python does by default.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_addoption(parser: pytest.Parser) -> None:
    # Here, not in tests/reliability/: an option must be known when pytest starts from the root.
    parser.addoption(
        "--long", action="store_true", default=False,
        help="reliability suite: kill torture x500, a 30-minute 1 kHz soak, more hypothesis examples",
    )


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty run root, also set as $RUNWATCH_DIR for code that resolves it itself."""
    path = tmp_path / "runs"
    monkeypatch.setenv("RUNWATCH_DIR", str(path))
    monkeypatch.delenv("RUNWATCH_MODE", raising=False)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    return path


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Readers' index cache (logger/index.py) goes to a temporary XDG cache, never ~/.cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))


@pytest.fixture(autouse=True)
def _no_shell_entity(monkeypatch: pytest.MonkeyPatch) -> None:
    """$WANDB_ENTITY from the shell would be recorded by every run a test starts, and a path
    naming another entity would then find none (logger/sdk.py _entity)."""
    monkeypatch.delenv("WANDB_ENTITY", raising=False)


@pytest.fixture(autouse=True)
def _state_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app remembers its view in $XDG_STATE_HOME/runwatch: never the user's own in a test
    (scripts and apps a test starts inherit it)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))


@pytest.fixture(autouse=True)
def _no_leftover_runs():
    """A test that leaves a run open must not leak it into the next one."""
    yield
    from logger import sdk

    for run in list(sdk._active):
        run.finish()
    sdk._pending_config.clear()


def script_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def run_script(tmp_path: Path, code: str, *, timeout: float = 60, check: bool = True,
               **env: str) -> subprocess.CompletedProcess[str]:
    """Run `code` as a real training script (python file in tmp_path)."""
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(code))
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=script_env(**env),
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"script failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def wait_for_line(stream: Any, text: str, timeout: float = 60) -> str:
    """The first line of a subprocess's text `stream` that contains `text`, read by a thread so
    the wait ends at `timeout` (an AssertionError with what was read) instead of hanging."""
    found: queue.Queue[str | None] = queue.Queue()
    seen: list[str] = []

    def read() -> None:
        for line in iter(stream.readline, ""):
            seen.append(line)
            if text in line:
                found.put(line)
                return
        found.put(None)

    threading.Thread(target=read, daemon=True).start()
    try:
        line = found.get(timeout=timeout)
    except queue.Empty:
        line = None
    if line is None:
        raise AssertionError(f"no line with {text!r} within {timeout}s; got:\n{''.join(seen)}")
    return line


async def palette_settled(pilot: Any, typed: str, timeout: float = 10.0) -> None:
    """Let the app run until the command palette on top has searched for all of `typed` (no
    search running) and highlights a hit: Enter then picks the hit for `typed`, not for a part
    of it. A fixed pause here picked a half-typed query's hit on a loaded machine."""
    import time

    from textual.command import CommandInput, CommandList, CommandPalette
    from textual.worker import WorkerState

    def settled() -> bool:
        palette = pilot.app.screen
        if not isinstance(palette, CommandPalette) or palette.query_one(CommandInput).value != typed:
            return False
        busy = any(w.node is palette and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
                   for w in pilot.app.workers)
        hits = palette.query_one(CommandList)
        return not busy and hits.option_count > 0 and hits.highlighted is not None

    deadline = time.monotonic() + timeout
    while not settled():
        if time.monotonic() > deadline:
            raise AssertionError(f"the palette did not settle on {typed!r} in time")
        await pilot.pause(0.02)
