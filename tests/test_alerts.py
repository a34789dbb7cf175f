"""run.alert() / logger.alert(): events, W&B's rate limit, read back, and the user's hooks."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

import logger
from logger.media import alerts
from logger.media.readback import format_alert
from tests.conftest import run_script


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict]]]:
    """A local HTTP server on 127.0.0.1 that records the JSON bodies POSTed to it."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "type": self.headers["Content-Type"], **json.loads(body)})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    server.server_close()


def _wait_hooks() -> None:
    for thread in list(alerts._pending):
        thread.join(10)


def test_alerts_are_events_rate_limited_per_title_and_read_back(root: Path) -> None:
    run = logger.init(dir=root, project="p")
    run.alert("loss diverged", "loss is nan at step 10", level="ERROR", wait_duration=300)
    run.alert("loss diverged", "again", level=logger.AlertLevel.ERROR)  # within 5 minutes: suppressed
    logger.alert("slow", "epoch took 2 h", level="WARN", wait_duration=dt.timedelta(seconds=0))
    logger.alert("slow", "still slow", wait_duration=0)
    logger.finish()
    (read,) = logger.Api(root).runs()
    got = [(a["title"], a["text"], a["level"], a["suppressed"]) for a in read.alerts]
    assert got == [("loss diverged", "loss is nan at step 10", "ERROR", False),
                   ("loss diverged", "again", "ERROR", True),
                   ("slow", "epoch took 2 h", "WARN", False), ("slow", "still slow", "INFO", False)]
    assert read.alerts[0]["wait_duration"] == 300.0 and read.alerts[1]["wait_duration"] == 60.0
    assert format_alert(read.alerts[0]) == "ALERT ERROR loss diverged: loss is nan at step 10"
    assert format_alert(read.alerts[1]).endswith("(suppressed: within wait_duration)")
    assert format_alert({"title": "t\x1b[2J", "level": "INFO"}) == "ALERT INFO  t\\x1b[2J"


def test_alert_misuse_raises_where_it_happens(root: Path) -> None:
    run = logger.init(dir=root, project="p")
    with pytest.raises(ValueError, match="use one of 'INFO', 'WARN', 'ERROR'"):
        run.alert("t", "x", level="LOUD")
    with pytest.raises(TypeError, match="wait_duration must be"):
        run.alert("t", "x", wait_duration="soon")
    with pytest.raises(TypeError, match="non-empty str"):
        run.alert("", "x")
    logger.finish()
    with pytest.raises(logger.RunFinishedError):
        run.alert("t", "x")
    with pytest.raises(logger.RunwatchError, match="needs a run"):
        logger.alert("t", "x")
    disabled = logger.init(mode="disabled")
    disabled.alert("t", "x")
    logger.finish()


def test_a_webhook_gets_each_alert_that_is_not_suppressed(root: Path, webhook, monkeypatch) -> None:
    url, received = webhook
    monkeypatch.setenv(alerts.WEBHOOK_ENV, url)
    run = logger.init(dir=root, project="p", name="brisk-otter-1")
    run.alert("done", "accuracy 0.93", level="INFO")
    run.alert("done", "suppressed")
    _wait_hooks()
    logger.finish()
    assert len(received) == 1
    body = received[0]
    assert (body["path"], body["type"]) == ("/hook", "application/json")
    assert (body["title"], body["text"], body["level"]) == ("done", "accuracy 0.93", "INFO")
    assert body["run"] == {"project": "p", "id": run.id, "name": "brisk-otter-1", "path": f"p/{run.id}"}


def test_a_command_hook_gets_the_alert_in_its_environment(root: Path, tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "alert.txt"
    monkeypatch.setenv(alerts.COMMAND_ENV, f'printf "%s|%s|%s" "$RUNWATCH_ALERT_TITLE" '
                                           f'"$RUNWATCH_ALERT_LEVEL" "$RUNWATCH_ALERT_TEXT" > {out}')
    logger.init(dir=root, project="p")
    logger.alert("nan", "loss; rm -rf /", level="WARN")
    _wait_hooks()
    logger.finish()
    assert out.read_text() == "nan|WARN|loss; rm -rf /"


def test_a_failing_hook_never_reaches_the_training_loop(root: Path, monkeypatch, capfd) -> None:
    monkeypatch.setenv(alerts.WEBHOOK_ENV, "http://127.0.0.1:9/nothing-listens-here")
    run = logger.init(dir=root, project="p")
    for i in range(3):
        run.alert(f"a{i}", "x")
        run.log({"loss": float(i)})
    _wait_hooks()
    logger.finish()
    err = capfd.readouterr().err
    assert err.count("the alert hook failed") == 1, err
    (read,) = logger.Api(root).runs()
    assert len(read.alerts) == 3 and read.summary["loss"] == 2.0


def test_a_script_that_alerts_and_exits_at_once_still_sends_it(tmp_path: Path, webhook) -> None:
    url, received = webhook
    run_script(tmp_path, """
        import logger as wandb
        wandb.init(project="p", dir="runs")
        wandb.alert(title="finished", text="bye")
    """, RUNWATCH_ALERT_WEBHOOK=url)
    assert [b["title"] for b in received] == ["finished"]


def test_the_wait_counts_from_the_last_alert_sent_with_that_title(root: Path) -> None:
    import time

    run = logger.init(dir=root, project="p")
    for _ in range(2):
        run.alert("t", "x", wait_duration=0.3)
    time.sleep(0.35)
    run.alert("t", "x", wait_duration=0.3)
    run.alert("other", "x", wait_duration=0.3)
    logger.finish()
    (read,) = logger.Api(root).runs()
    assert [a["suppressed"] for a in read.alerts] == [False, True, False, False]
    assert read.alerts[0]["time"] <= read.alerts[2]["time"]
