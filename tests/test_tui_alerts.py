"""The app shows a run's new alerts as notifications (and rings the bell for WARN/ERROR);
alerts already on disk when it opens, and suppressed ones, are not news."""

from __future__ import annotations

import time
from pathlib import Path

import logger
import tui.app
from tests.test_tui_main import started
from tests.test_tui_support import wait_for
from tui.app import RunwatchApp


class BellCountingApp(RunwatchApp):
    """The real app; counts the bells it rings (headless, Textual writes none)."""

    CSS_PATH = str(Path(tui.app.__file__).parent / RunwatchApp.CSS_PATH)  # type: ignore[operator]
    bells = 0

    def bell(self) -> None:
        self.bells += 1
        super().bell()


def notes(app: RunwatchApp) -> list[tuple[str, str, str]]:
    return [(n.title, n.message, n.severity) for n in app._notifications]


def raise_alerts(root: Path, name: str, *alerts: tuple[str, str, str]) -> None:
    run = logger.init(dir=root, project="p", name=name)
    for title, text, level in alerts:
        run.alert(title, text, level=level, wait_duration=300)
    logger.log({"loss": 1.0})
    logger.finish()


async def test_a_new_alert_notifies_with_its_level_and_rings_the_bell(root: Path) -> None:
    raise_alerts(root, "old", ("old news", "raised before the app opened", "ERROR"))
    app = BellCountingApp(root)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot, runs=1)
        await wait_for(pilot, lambda: app.store.loaded and app.alerts.live)
        await pilot.pause(0.3)
        raise_alerts(root, "new\x1b[2J", ("loss diverged", "lr \x1b[31mtoo high", "ERROR"),
                     ("loss diverged", "again", "ERROR"),  # within wait_duration: suppressed
                     ("slow", "", "WARN"), ("checkpoint saved", "", "INFO"))
        await wait_for(pilot, lambda: len(notes(app)) == 3, timeout=10)
        await pilot.pause(0.5)
        assert notes(app) == [
            ("p/new\\x1b[2J", "ALERT ERROR loss diverged: lr \\x1b[31mtoo high", "error"),
            ("p/new\\x1b[2J", "ALERT WARN  slow", "warning"),
            ("p/new\\x1b[2J", "ALERT INFO  checkpoint saved", "information"),
        ]
        assert all(not n.markup for n in app._notifications)
        assert app.bells == 2  # ERROR and WARN; INFO is quiet


async def test_alerts_on_disk_at_start_are_not_notified_again(root: Path) -> None:
    for i in range(3):
        raise_alerts(root, f"r{i}", (f"alert {i}", "old", "WARN"))
    app = BellCountingApp(root)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot, runs=3)
        await wait_for(pilot, lambda: app.store.loaded and app.alerts.live)
        await pilot.pause(0.5)
        assert notes(app) == [] and app.bells == 0


async def test_an_alert_raised_while_the_app_still_loads_is_news(root: Path) -> None:
    """Raised after the app opened, read in the first pass: its time says it is new."""
    app = BellCountingApp(root)
    app.alerts.started_at = time.time()
    raise_alerts(root, "during", ("late", "", "INFO"))
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot, runs=1)
        await wait_for(pilot, lambda: notes(app) == [("p/during", "ALERT INFO  late", "information")])
