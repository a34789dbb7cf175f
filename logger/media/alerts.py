"""`run.alert()` / `logger.alert()`: W&B's alerts, kept as events and sent to a hook you set.

W&B sends an alert at most once per `wait_duration` (default one minute) for a given title;
runwatch records every call as an `Alert` event (one that came too soon is marked
`suppressed`, so nothing is lost) and notifies only for those that were not suppressed:
`RUNWATCH_ALERT_WEBHOOK=<url>` POSTs a JSON body, `RUNWATCH_ALERT_COMMAND=<shell command>`
runs with the alert in `RUNWATCH_ALERT_*` variables. Both run on a background thread: a slow
or failing hook never delays or breaks the training loop (failures warn once).
"""

from __future__ import annotations

import atexit
import datetime as _dt
import enum
import json
import os
import threading
import time
from typing import Any

from .. import clock
from .. import events as ev

WEBHOOK_ENV = "RUNWATCH_ALERT_WEBHOOK"
COMMAND_ENV = "RUNWATCH_ALERT_COMMAND"
HOOK_TIMEOUT = 10.0  # seconds a webhook or command may take
EXIT_WAIT = 5.0  # seconds the interpreter waits at exit for hooks still running
_pending: list[threading.Thread] = []


class AlertLevel(str, enum.Enum):
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"


def check_alert(title: Any, text: Any, level: Any, wait_duration: Any) -> tuple[str, str, str, float]:
    """Validate W&B's alert arguments; misuse raises here, with what to pass instead."""
    if not isinstance(title, str) or not title:
        raise TypeError(f"alert title must be a non-empty str, not {title!r}")
    if not isinstance(text, str):
        raise TypeError(f"alert text must be a str, not {type(text).__name__}")
    level = level or AlertLevel.INFO
    level_str = level.value if isinstance(level, AlertLevel) else level
    if level_str not in AlertLevel._value2member_map_:
        raise ValueError(f"alert level {level!r}: use one of 'INFO', 'WARN', 'ERROR' (or AlertLevel)")
    wait = wait_duration if wait_duration is not None else 60.0
    if isinstance(wait, _dt.timedelta):
        wait = wait.total_seconds()
    elif isinstance(wait, bool) or not isinstance(wait, (int, float)):
        raise TypeError("wait_duration must be an int, float, or datetime.timedelta")
    return title, text, level_str, float(wait)


def send_alert(run: Any, title: Any, text: Any = "", level: Any = None, wait_duration: Any = None) -> None:
    """Record an alert on `run` and notify the configured hook unless it came too soon."""
    title, text, level_str, wait = check_alert(title, text, level, wait_duration)
    run._check_open("alert")
    mono, now = time.monotonic(), clock.now()  # the limit counts real seconds, whatever NTP does
    sent: dict[str, float] = run.__dict__.setdefault("_alerts_sent", {})
    last = sent.get(title)
    suppressed = last is not None and mono - last < wait
    if not suppressed:
        sent[title] = mono
    run._emit(ev.Alert(title=title, text=text, level=level_str, wait_duration=wait, time=now,
                       suppressed=suppressed))
    if not suppressed and (os.environ.get(WEBHOOK_ENV) or os.environ.get(COMMAND_ENV)):
        # "path" stays the hook's "project/id" (what `runwatch show` takes), not W&B's run.path.
        where = f"{run.project}/{run.id}"
        body = {"title": title, "text": text, "level": level_str, "time": now,
                "run": {"project": run.project, "id": run.id, "name": run.name, "path": where}}
        thread = threading.Thread(target=_notify, args=(run, body), name="runwatch-alert", daemon=True)
        _pending[:] = [t for t in _pending if t.is_alive()]
        _pending.append(thread)
        thread.start()


def _notify(run: Any, body: dict[str, Any]) -> None:
    url, command = os.environ.get(WEBHOOK_ENV), os.environ.get(COMMAND_ENV)
    try:
        if url:
            post_json(url, body)
        if command:
            import subprocess

            env = {**os.environ, "RUNWATCH_ALERT_TITLE": body["title"], "RUNWATCH_ALERT_TEXT": body["text"],
                   "RUNWATCH_ALERT_LEVEL": body["level"], "RUNWATCH_ALERT_RUN": body["run"]["path"]}
            subprocess.run(command, shell=True, env=env, timeout=HOOK_TIMEOUT, check=True,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    except Exception as exc:  # noqa: BLE001 - a hook's failure must not reach the script
        run._warn_once("alert-hook", f"runwatch: the alert hook failed ({type(exc).__name__}: {exc}); "
                       f"alerts are still recorded in the run (check ${WEBHOOK_ENV} / ${COMMAND_ENV})")


def post_json(url: str, body: dict[str, Any]) -> None:
    """POST `body` as JSON; only http(s) URLs (no file:, no ftp:)."""
    import urllib.request  # loaded only when a webhook is configured (~20 ms of imports)

    if not url.startswith(("http://", "https://")):
        raise ValueError(f"{WEBHOOK_ENV}={url!r} is not an http(s) URL")
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=HOOK_TIMEOUT) as response:  # noqa: S310
        response.read()


@atexit.register
def _wait_for_hooks() -> None:
    """A script that alerts and exits at once still gets its alert out (up to EXIT_WAIT s)."""
    deadline = time.monotonic() + EXIT_WAIT
    for thread in _pending:
        thread.join(max(0.0, deadline - time.monotonic()))


def alert(title: str, text: str = "", level: Any = None, wait_duration: Any = None) -> None:
    """`logger.alert(...)`: an alert on the current run (W&B's `wandb.alert`)."""
    from ..toplevel import current_run

    current_run("logger.alert()", allow_disabled=True).alert(title, text, level=level, wait_duration=wait_duration)
