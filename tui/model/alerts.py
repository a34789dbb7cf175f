"""New alerts across every run, for the app's notifications (no Textual here).

The UI thread `push`es the paths of each RunsChanged; a worker `drain`s them in order under
the reader's lock and gets the alerts not seen before. Alerts already on disk when the app
started are not news: until the store has read everything that was there (and for the batch
that finished it), an alert counts only if it was raised after the app started.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, TypeVar

from logger.media.readback import format_alert
from logger.rundata import RunData
from logger.textsafe import one_line

T = TypeVar("T")
WithRuns = Callable[[list[str], Callable[[list[RunData]], T]], T]
Severity = Literal["information", "warning", "error"]
SEVERITY: dict[str, Severity] = {"ERROR": "error", "WARN": "warning", "WARNING": "warning"}


@dataclass(frozen=True)
class NewAlert:
    """One alert to show: `run` is "project/name" and `text` format_alert's line, both escaped."""

    run: str
    text: str
    level: str

    @property
    def severity(self) -> Severity:
        """Textual's notification severity for the alert's level."""
        return SEVERITY.get(self.level.upper(), "information")

    @property
    def rings(self) -> bool:
        """WARN and ERROR ring the terminal bell; INFO does not."""
        return self.severity != "information"


class AlertTracker:
    """Counts each run's alerts seen so far; hands out the ones that arrived since."""

    def __init__(self, started_at: float) -> None:
        self.started_at = started_at  # wall clock when the app opened
        self.live = False  # the store has read what was on disk at start (UI thread)
        self._seen: dict[str, int] = {}  # run path -> alerts already looked at
        self._queue: deque[tuple[list[str], bool]] = deque()
        self._lock = threading.Lock()

    def seen(self, counts: dict[str, int]) -> None:
        """(UI thread, before any push) Runs whose first `count` alerts were shown before."""
        self._seen.update(counts)

    def push(self, paths: Iterable[str], loaded: bool) -> None:
        """(UI thread) These runs changed; `loaded` is `store.loaded` as the message is handled.
        The first batch seen with it set may still hold what was on disk: it is not yet live."""
        self._queue.append((list(paths), self.live))
        self.live = self.live or loaded

    def drain(self, with_runs: WithRuns[list[NewAlert]]) -> list[NewAlert]:
        """(worker thread) The new, unsuppressed alerts of every batch pushed, in order."""
        out: list[NewAlert] = []
        with self._lock:
            while self._queue:
                paths, live = self._queue.popleft()
                if paths:
                    out += with_runs(paths, partial(self._new, live=live))
        return out

    def _new(self, runs: list[RunData], live: bool) -> list[NewAlert]:
        out = []
        for run in runs:
            alerts: list[Any] = run.extras.get("alerts", [])
            seen = min(self._seen.get(run.path, 0), len(alerts))
            for alert in alerts[seen:]:
                if not alert.suppressed and (live or alert.time >= self.started_at):
                    out.append(NewAlert(f"{one_line(run.project, 40)}/{one_line(run.name, 60)}",
                                        format_alert(alert), one_line(alert.level)))
            self._seen[run.path] = len(alerts)
        return out
