"""`runwatch tail` and alerts: one escaped line (or a kind "alert" JSON object) per alert, and
`--until-done --fail-on-alert LEVEL` exiting 1 once a run it waits for alerts at LEVEL or above.
The writers are real training processes."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from logger import events as ev
from logger.reader import RootReader

from .test_cli_support import HOSTILE, assert_no_raw_controls, python, reap, rw, spawn, stop

ALERTING = """
import sys, time
import logger
root, name, levels, then = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4]
r = logger.init(project="alerts", name=name, dir=root)
r.log({"loss": 1.0})
for i, level in enumerate(levels):
    r.alert(title=f"check {i} " + sys.argv[5], text="lr too high\\n" + sys.argv[5], level=level)
    r.log({"loss": 1.0 / (i + 2)})
if then == "hang":
    time.sleep(60)
"""


def writer(root: Path, name: str, levels: str, then: str = "finish", extra: str = "") -> subprocess.Popen[str]:
    return python(ALERTING, str(root), name, levels, then, extra, wait=then != "hang")


def wait_for_alerts(root: Path, count: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        updates = RootReader(root).scan() if root.exists() else []
        if sum(type(e) is ev.Alert for u in updates for e in u.events) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"no run under {root} has {count} alerts")


def test_alerts_print_as_one_escaped_line_and_as_json(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    writer(root, "noisy", "WARN,ERROR", extra=HOSTILE)
    human = rw("tail", str(root), "--no-follow")
    assert human.returncode == 0, human.stderr
    alerts = [line for line in human.stdout.splitlines() if "ALERT" in line]
    assert len(alerts) == 2, human.stdout
    assert "alerts/noisy" in alerts[0] and "ALERT WARN  check 0 evil" in alerts[0]
    assert "ALERT ERROR check 1 evil" in alerts[1] and ": lr too high ⏎ evil" in alerts[1]  # all of it
    assert_no_raw_controls(human.stdout)
    out = rw("tail", str(root), "--no-follow", "--json")
    objs = [json.loads(line) for line in out.stdout.splitlines()]
    (first, second) = [o for o in objs if o["kind"] == "alert"]
    assert first["level"] == "WARN" and second["level"] == "ERROR" and first["run"].startswith("alerts/")
    assert second["title"] == "check 1 " + HOSTILE and second["text"] == "lr too high\n" + HOSTILE
    assert second["wait_duration"] == 60.0 and second["suppressed"] is False
    assert {"time", "ts", "name", "id", "project"} <= set(second)


def test_until_done_fails_on_an_alert_at_the_level_while_the_run_goes_on(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    tail = spawn("tail", str(root), "--until-done", "--fail-on-alert", "warn")
    assert tail.stderr is not None and "waiting for" in tail.stderr.readline()
    train = writer(root, "diverging", "INFO,WARN", then="hang")
    try:
        out, err = tail.communicate(timeout=30)
        assert tail.returncode == 1, err  # the writer still sleeps: the alert ended the wait
        assert train.poll() is None
        assert "ALERT INFO  check 0" in out and "ALERT WARN  check 1" in out
        assert "alerts/diverging: ALERT WARN  check 1" in err and "(--fail-on-alert WARN): exiting 1" in err
    finally:
        stop(train)
        stop(tail)


def test_an_alert_below_the_level_does_not_fail_the_wait(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    tail = spawn("tail", str(root), "--until-done", "--fail-on-alert", "ERROR")
    assert tail.stderr is not None and "waiting for" in tail.stderr.readline()
    writer(root, "fine", "INFO,WARN")
    try:
        assert reap(tail, timeout=30) == 0
    finally:
        stop(tail)


def test_an_alert_raised_before_tail_started_counts(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    train = writer(root, "early", "ERROR", then="hang")
    try:
        wait_for_alerts(root, 1)
        proc = rw("tail", str(root), "--until-done", "--fail-on-alert", "ERROR", "-r", "early", timeout=30)
        assert proc.returncode == 1, proc.stderr
        assert "--fail-on-alert ERROR" in proc.stderr and "check 0" in proc.stderr
    finally:
        stop(train)


def test_fail_on_alert_needs_until_done_and_a_known_level(tmp_path: Path) -> None:
    alone = rw("tail", str(tmp_path), "--no-follow", "--fail-on-alert", "ERROR")
    assert alone.returncode == 2 and "needs --until-done" in alone.stderr
    bad = rw("tail", str(tmp_path), "--until-done", "--fail-on-alert", "FATAL")
    assert bad.returncode == 2 and "'FATAL' is not an alert level: use INFO, WARN or ERROR" in bad.stderr
