"""End to end in a real terminal (tmux): the app open on a root while a separate training
process logs into it through `logger`; the run appears, its step advances, and a SIGKILL
shows it crashed."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


def capture(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True,
                          text=True, check=False).stdout


def wait_screen(session: str, predicate, timeout: float = 30.0) -> str:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = capture(session)
        if predicate(screen):
            return screen
        time.sleep(0.1)
    raise AssertionError(f"screen never matched; last screen:\n{screen}")


def row(screen: str, name: str) -> str:
    return next((line for line in screen.splitlines() if name in line), "")


def step_of(line: str) -> int | None:
    # state, name, lr, loss value + sparkline, then step: the first bare integer after "loss"
    m = re.search(r"(\d+)\s+\d+s\b", line)  # "<step>  <runtime>s"
    return int(m.group(1)) if m else None


def app_command(root: Path) -> str:
    """The app on `root`. A running tmux server gives new panes its own environment: say
    where views and the readers' index cache are kept (the test's, never the user's)."""
    return (f"env XDG_STATE_HOME={os.environ['XDG_STATE_HOME']} "
            f"XDG_CACHE_HOME={os.environ['XDG_CACHE_HOME']} "
            f"{sys.executable} -c 'import sys; from tui.app import run_app; "
            f"sys.exit(run_app(sys.argv[1]))' {root}")


@pytest.fixture
def session(tmp_path):
    name = f"rw-e2e-{os.getpid()}"
    env = {**os.environ, "PYTHONPATH": str(REPO), "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    root = tmp_path / "runs"
    app = app_command(root)
    subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True, check=False)
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "120", "-y", "30", app],
                   check=True, env=env, cwd=REPO)
    try:
        yield name, root
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True, check=False)


def test_new_run_appears_advances_and_crashes(session, tmp_path):
    name, root = session
    wait_screen(name, lambda s: "does not exist yet" in s or "No runs" in s)
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(f"""
        import time, logger
        run = logger.init(project="e2e", name="e2e-run", dir={str(root)!r}, config={{"lr": 0.1}})
        step = 0
        while True:
            run.log({{"loss": 1.0 / (step + 1)}})
            step += 1
            time.sleep(0.02)
    """))
    proc = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        screen = wait_screen(name, lambda s: "e2e-run" in s and "running" in row(s, "e2e-run"))
        first = wait_screen(name, lambda s: step_of(row(s, "e2e-run")) is not None)
        step0 = step_of(row(first, "e2e-run"))
        assert step0 is not None
        later = wait_screen(name, lambda s: (step_of(row(s, "e2e-run")) or 0) > step0 + 5)
        assert "▶ running" in row(later, "e2e-run")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        t0 = time.monotonic()
        screen = wait_screen(name, lambda s: "crashed" in row(s, "e2e-run"), timeout=10)
        print(f"SIGKILL to 'crashed' on screen: {time.monotonic() - t0:.2f} s")
        assert "! crashed" in row(screen, "e2e-run")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


SEVEN = """
import sys, time, logger
root = sys.argv[1]
for i in range(7):  # six finished runs, then a seventh that keeps logging
    run = logger.init(project="e2e", name=f"seven-{i}", dir=root, config={"lr": 10.0 ** -(i % 4)})
    for step in range(30):
        run.log({"loss": (i + 1) / (step + 1), "val/acc": step / 30})
    if i < 6:
        run.finish()
step = 30
while True:
    run.log({"loss": 7 / (step + 1), "val/acc": min(1.0, step / 300)})
    step += 1
    time.sleep(0.02)
"""


def panel_lines(screen: str) -> list[str]:
    """The chart panel: the lines from its title ("N marked runs") down."""
    lines = screen.splitlines()
    top = next((i for i, line in enumerate(lines) if "marked runs" in line), len(lines))
    return lines[top:]


def test_seven_marked_runs_overlaid_in_the_panel_update_live(tmp_path):
    name = f"rw-e2e7-{os.getpid()}"
    env = {**os.environ, "PYTHONPATH": str(REPO), "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    root = tmp_path / "runs"
    script = tmp_path / "seven.py"
    script.write_text(SEVEN)
    proc = subprocess.Popen([sys.executable, str(script), str(root)], cwd=tmp_path, env=env)
    app = app_command(root)
    subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True, check=False)
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "120", "-y", "40", app],
                   check=True, env=env, cwd=REPO)
    try:
        wait_screen(name, lambda s: all(f"seven-{i}" in s for i in range(7))
                    and "running" in row(s, "seven-6"))
        subprocess.run(["tmux", "send-keys", "-t", name, "a"], check=True)
        # Every run in the legends (each chart's legend shows what its width allows).
        screen = wait_screen(name, lambda s: "7 marked runs" in s
                             and sum(line.count("■ seven-") for line in panel_lines(s)) >= 8)
        panel = panel_lines(screen)
        assert any("loss" in line for line in panel[:3]) and any("val/acc" in line for line in panel[:3])
        assert any(ch in "".join(panel) for ch in "⠁⠂⠄⡀⢀⠈⠐⠠")  # braille curves drawn
        # The live seventh run moves its curves: the panel redraws on its own.
        wait_screen(name, lambda s: panel_lines(s)[1:] != panel[1:] and "7 marked runs" in s)
        table = [line for line in screen.splitlines() if "seven-" in line and "■" not in line]
        assert len(table) == 7 and all(line.startswith("* ") for line in table)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True, check=False)
        proc.kill()
        proc.wait()


def table_names(screen: str) -> list[str]:
    """The runs in the table's rows, top to bottom (not the chart legends')."""
    return [m.group(0) for line in screen.splitlines() if "finished" in line
            for m in [re.search(r"paste-\d", line)] if m]


def test_a_paste_into_the_filter_and_a_restart_that_restores_the_view(tmp_path):
    """Keys arriving in one burst (a paste over SSH) all reach the filter, in order; quitting
    and starting again shows the same filter and sort (kept in XDG_STATE_HOME)."""
    root = tmp_path / "runs"
    script = tmp_path / "make.py"
    script.write_text(textwrap.dedent(f"""
        import logger
        for i in range(5):
            with logger.init(project="e2e", name=f"paste-{{i}}", dir={str(root)!r},
                             config={{"lr": 10.0 ** -i}}) as run:
                for step in range(10):
                    run.log({{"loss": (i + 1) / (step + 1)}})
    """))
    env = {**os.environ, "PYTHONPATH": str(REPO), "TERM": "xterm-256color"}
    subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, check=True, timeout=60)
    name = f"rw-e2ep-{os.getpid()}"
    for attempt in ("paste", "restart"):
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True, check=False)
        subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "120", "-y", "30",
                        app_command(root)], check=True, env=env, cwd=REPO)
        try:
            if attempt == "paste":
                wait_screen(name, lambda s: all(f"paste-{i}" in s for i in range(5)))
                # One write to the terminal: "/", the filter text, Enter, then "S" (reverse).
                subprocess.run(["tmux", "send-keys", "-t", name, "-l", "/lr<0.05\rS"], check=True)
                # Reversed (oldest first), and nothing typed into the closed filter box.
                wait_screen(name, lambda s: "filter: lr<0.05" in s
                            and table_names(s) == ["paste-2", "paste-3", "paste-4"])
                subprocess.run(["tmux", "send-keys", "-t", name, "q"], check=True)
                # The view is saved on exit: wait for the app to end (its session goes with it).
                deadline = time.monotonic() + 30
                while subprocess.run(["tmux", "has-session", "-t", name],
                                     capture_output=True).returncode == 0:
                    assert time.monotonic() < deadline, "the app did not quit on q"
                    time.sleep(0.1)
            else:
                wait_screen(name, lambda s: "filter: lr<0.05" in s
                            and table_names(s) == ["paste-2", "paste-3", "paste-4"])
        finally:
            subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True, check=False)
