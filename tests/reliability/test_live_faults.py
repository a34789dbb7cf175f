"""Faults the live side meets: a read-only root (opened as an unprivileged user), a full disk
under an edit, a root where change events never arrive (forced polling), and the writer's wall
clock stepping backwards while the app and `runwatch tail` follow it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import relkit
import test_live_support as live

from tui.app import RunwatchApp
from tui.screens.main import MainScreen

TWO_RUNS = r"""
import sys
import logger
for name in ("ro-a", "ro-b"):
    run = logger.init(project="p", name=name, dir=sys.argv[1], tags=["t0"], notes="n0",
                      config={"lr": 0.1}, reinit=True)
    for i in range(5):
        run.log({"loss": 1.0 / (i + 1)})
    run.finish()
"""


def make_two_runs(tmp: Path, root: Path) -> None:
    proc = relkit.run_script(relkit.write_script(tmp, "two.py", TWO_RUNS), root)
    assert proc.returncode == 0, proc.stderr


def flat(screen: str) -> str:
    """Screen text as one line: a notification wraps its message inside a bordered box."""
    return " ".join(screen.replace("▌", " ").split())


def shows_both_runs(screen: str) -> bool:
    return all("✓ finished" in live.row_of(screen, f" {name} ") for name in ("ro-a", "ro-b"))


def edit_in_app(app: live.Tmux) -> dict[str, str]:
    """Tag the run under the cursor, then replace its notes, as a person types them; the
    message each save left (a notification lasts seconds: each is read while it shows)."""
    said = {}
    app.keys("c")  # no charts beside the notification: it reads as whole lines
    app.keys("t")
    app.wait(lambda s: "Tags of" in s, "the tag editor")
    app.type(",newtag")
    app.keys("Enter")
    said["tags"] = message(app.wait(lambda s: "cannot save tags" in flat(s), "why the tags were not saved"), "tags")
    app.keys("n")
    app.wait(lambda s: "Notes of" in s, "the notes editor")
    app.type("more notes")
    app.keys("C-s")
    said["notes"] = message(app.wait(lambda s: "cannot save notes" in flat(s), "why the notes were not saved"),
                            "notes")
    return said


def message(screen: str, what: str) -> str:
    """The notification about `what`: from "cannot save <what>" to its end."""
    found = re.search(rf"not saved cannot save {what} for run \S+: .*?; nothing was changed", flat(screen))
    assert found, f"no whole message about {what}:\n{screen}"
    return found.group()


# -- a read-only root -------------------------------------------------------------------------
def test_a_read_only_root_is_shown_and_an_edit_says_why_it_cannot_save(tmp_path: Path) -> None:
    live.need_tmux()
    user = live.user_python()
    if user is None:
        pytest.skip("no python that user 65534 can run with this checkout's packages (setpriv?)")
    python, _ = user
    base = live.world_readable_dir("rw-live-ro-")
    app = None
    try:
        root = base / "runs"
        make_two_runs(tmp_path, root)
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                os.chmod(os.path.join(dirpath, name), 0o444)
            os.chmod(dirpath, 0o555)
        before = live.snapshot(base)
        app = live.Tmux([*python, "-m", "tui", str(root)], cwd=base, env_extra={"HOME": str(base)})
        app.wait(shows_both_runs, "both runs")
        said = edit_in_app(app)
        for what in ("tags", "notes"):
            assert said[what].endswith("is not writable (Permission denied); nothing was changed"), said
        assert shows_both_runs(app.screen()), "the table went away after a failed save"
        # Viewing still works: the charts of the run under the cursor.
        app.keys("Enter")
        app.wait(lambda s: "x: step" in s and "loss" in s, "the run's charts")
        app.keys("Escape")
        app.wait(shows_both_runs, "the table again")
        assert live.snapshot(base) == before, "something was written under the read-only root"
    finally:
        if app is not None:
            app.close()
        live.remove_tree(base)


# -- a full disk ------------------------------------------------------------------------------
# write() fails with EFBIG past RLIMIT_FSIZE, as it fails with ENOSPC on a full disk; the app
# itself writes no file, so a limit of 0 leaves it working and every save refused.
FULL_DISK = ("import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
             "resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY)); "
             "from tui.cli import main; sys.exit(main(sys.argv[1:]))")


def full_disk_argv(*args: object) -> list[str]:
    return [sys.executable, "-c", FULL_DISK, *map(str, args)]


def test_a_full_disk_refuses_an_app_edit_plainly(tmp_path: Path) -> None:
    live.need_tmux()
    root = tmp_path / "runs"
    make_two_runs(tmp_path, root)
    app = live.Tmux(full_disk_argv(root), env_extra={"PYTHONDONTWRITEBYTECODE": "1"})
    try:
        app.wait(shows_both_runs, "both runs")
        said = edit_in_app(app)
        for what in ("tags", "notes"):
            assert said[what].endswith("is not writable (File too large); nothing was changed"), said
        assert shows_both_runs(app.screen())
    finally:
        app.close()
    assert {(r.tags, r.notes) for r in relkit.read_root(root).runs.values()} == {(("t0",), "n0")}


@pytest.mark.parametrize("command", [["tag", "+newtag"], ["note", "new notes"]], ids=["tag", "note"])
def test_a_full_disk_refuses_a_cli_edit_plainly(command: list[str], tmp_path: Path) -> None:
    root = tmp_path / "runs"
    make_two_runs(tmp_path, root)
    proc = subprocess.run(full_disk_argv(command[0], "--root", root, "ro-a", *command[1:]),
                          env=live.env(PYTHONDONTWRITEBYTECODE="1"), cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    what = "tags" if command[0] == "tag" else "notes"
    assert proc.stderr.startswith(f"runwatch: cannot save {what} for run "), proc.stderr
    assert "(File too large); nothing was changed" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_a_refused_edit_leaves_no_file_behind(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    make_two_runs(tmp_path, root)
    before = live.snapshot(root)
    proc = subprocess.run(full_disk_argv("tag", "--root", root, "ro-a", "+newtag"),
                          env=live.env(PYTHONDONTWRITEBYTECODE="1"), cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "nothing was changed" in proc.stderr, proc.stderr
    new, changed, removed = live.tree_diff(before, live.snapshot(root))
    assert (new, changed, removed) == ([], [], [])


# -- change events that never arrive ----------------------------------------------------------
def dead_watch(*_paths: Any, stop_event: Any = None, **_kw: Any) -> Any:
    """watchfiles.watch on a filesystem whose change events never arrive (NFS, some FUSE)."""
    while not stop_event.wait(0.05):
        yield set()


DEAD_WATCH_TAIL = r"""
import sys
import watchfiles


def watch(*paths, stop_event=None, **kw):
    while not stop_event.wait(0.05):
        yield set()


watchfiles.watch = watch
from tui.cli import main
sys.exit(main(sys.argv[1:]))
"""

LIVE_WRITER = r"""
import sys, time
_real = time.time
offset = [0.0]
time.time = lambda: _real() + offset[0]  # before logger is imported: it keeps time.time
import logger
root, steps, step_back = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
print("READY", flush=True)
sys.stdin.readline()
run = logger.init(project="p", id="live", name="live-run", dir=root, config={"lr": 0.1})
for i in range(steps):
    if i == steps // 2:
        offset[0] = -step_back  # NTP steps the wall clock back mid-run
    logger.log({"loss": 1.0 / (i + 1), "i": i})
    if i % 10 == 9:
        time.sleep(0.03)  # ~1 s of logging for 300 steps: followers see it running
logger.finish()
print("DONE", flush=True)
"""


def tail_steps(tail: live.TailProc) -> list[int]:
    return [line["step"] for line in tail.of_kind("log")]


async def follow_in_app(root: Path, writer: relkit.Child, steps: int, force_polling: bool | None,
                        polling: bool) -> None:
    """The app follows the writer's whole run: every step, then its end."""
    async with RunwatchApp(root, force_polling=force_polling).run_test(size=(140, 30)) as pilot:
        while not isinstance(pilot.app.screen, MainScreen):
            await pilot.pause(0.05)
        screen = pilot.app.screen
        assert pilot.app.store.polling is polling
        writer.send("go")
        views = screen.model.views
        seen_running = False
        import time

        # The writer takes ~3 ms a step; the deadline stays under the watcher's 30 s rescan, so
        # a root whose events never arrive is only followed by polling.
        deadline = time.monotonic() + 10 + steps * 0.003
        while not ("p/live" in views and views["p/live"].state == "finished"
                   and views["p/live"].step == steps - 1):
            seen_running |= "p/live" in views and views["p/live"].state == "running"
            assert time.monotonic() < deadline, f"the app stopped following: {views.get('p/live')}"
            await pilot.pause(0.05)
        assert seen_running, "the app saw the run only once it had ended"
        view = views["p/live"]
        assert view.summary["i"] == steps - 1 and view.runtime >= 0
        await pilot.pause(0.2)
        status = str(screen.query_one("#status").render())
        assert ("(polling)" in status) is polling, status


async def test_forced_polling_follows_a_root_whose_change_events_never_arrive(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import watchfiles

    monkeypatch.setattr(watchfiles, "watch", dead_watch)
    root = tmp_path / "runs"
    root.mkdir()
    steps = relkit.scale(300, 3000)
    tail_script = relkit.write_script(tmp_path, "tail.py", DEAD_WATCH_TAIL)
    tail = live.TailProc(root, "--json", argv=[sys.executable, str(tail_script), "tail", str(root), "--json"],
                         RUNWATCH_POLL="1")
    writer = relkit.Child(relkit.write_script(tmp_path, "writer.py", LIVE_WRITER), root, steps, 0)
    try:
        tail.wait_err("following", 60)
        writer.expect("READY")
        await follow_in_app(root, writer, steps, force_polling=True, polling=True)
        writer.expect("DONE", 60)
        tail.wait(lambda: bool(tail.of_kind("state")), 60, "the run's end")
    finally:
        writer.close()
        tail.stop()
    assert tail_steps(tail) == list(range(steps))
    assert [line["state"] for line in tail.of_kind("state")] == ["finished"]


# -- the wall clock stepping back -------------------------------------------------------------
async def test_the_wall_clock_stepping_back_during_a_followed_run(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    root.mkdir()
    steps = relkit.scale(300, 3000)
    tails = {"plain": live.TailProc(root, "--json"),
             "every": live.TailProc(root, "--json", "--every", "0.1")}
    writer = relkit.Child(relkit.write_script(tmp_path, "writer.py", LIVE_WRITER), root, steps, 3600)
    try:
        for tail in tails.values():
            tail.wait_err("following", 60)
        writer.expect("READY")
        await follow_in_app(root, writer, steps, force_polling=None, polling=False)
        writer.expect("DONE", 60)
        for tail in tails.values():
            tail.wait(lambda tail=tail: bool(tail.of_kind("state")), 60, "the run's end")
    finally:
        writer.close()
        for tail in tails.values():
            tail.stop()
    plain, every = tails["plain"], tails["every"]
    assert tail_steps(plain) == list(range(steps)), Counter(tail_steps(plain)).most_common(3)
    times = [line["ts"] for line in plain.of_kind("log")]
    # Event times are the wall clock at init plus monotonic time: the step back never shows.
    assert times == sorted(times) and times[-1] - times[0] < 60, (times[0], times[-1])
    assert [line["state"] for line in plain.of_kind("state")] == ["finished"]
    # --every keeps printing after the step back, in step order, and ends on the last step.
    shown = tail_steps(every)
    assert shown == sorted(set(shown)) and shown[-1] == steps - 1, shown
    assert [s for s in shown if s > steps // 2], "--every went quiet after the clock stepped back"
    assert [line["state"] for line in every.of_kind("state")] == ["finished"]


def test_tail_since_keeps_following_a_run_whose_clock_stepped_back(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    root.mkdir()
    steps = 200
    tail = live.TailProc(root, "--json", "--since", "10m")
    writer = relkit.Child(relkit.write_script(tmp_path, "writer.py", LIVE_WRITER), root, steps, 3600)
    try:  # each wait ends on its line; the deadlines are for a machine at load ~10
        tail.wait_err("following", 60)
        writer.expect("READY", 60)
        writer.send("go")
        writer.expect("DONE", 60)
        tail.wait(lambda: bool(tail.of_kind("state")), 60, "the run's end")
        # The end line is printed at once; steps already read come before it.
    finally:
        writer.close()
        tail.stop()
    assert tail_steps(tail) == list(range(steps))


def test_runtime_survives_the_clock_stepping_back(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    writer = relkit.Child(relkit.write_script(tmp_path, "writer.py", LIVE_WRITER), root, 100, 3600)
    try:
        writer.expect("READY")
        writer.send("go")
        writer.expect("DONE", 60)
    finally:
        writer.close()
    run = relkit.read_root(root).runs["p/live"]
    runtimes = [row["_runtime"] for row in run.history.rows()]
    assert runtimes == sorted(runtimes) and runtimes[0] >= 0, runtimes[48:52]
    assert run.runtime >= 0.2, run.runtime  # ten 30 ms sleeps at least
