"""The "updated" column's ages: an idle table must not repaint every row every second
(each changed cell rewrites its whole line over SSH: ~470 B a row, measured by bench_ssh)."""

from __future__ import annotations

from tui.fmt import fmt_ago


def test_an_age_under_an_hour_changes_once_a_minute() -> None:
    t = 1_700_000_000.0
    shown = {fmt_ago(t, t + s) for s in range(60, 120)}
    assert shown == {"1m"}
    assert fmt_ago(t, t + 59) == "50s" and fmt_ago(t, t + 3599) == "59m"


def test_older_ages_keep_hours_and_minutes_then_the_date() -> None:
    t = 1_700_000_000.0
    assert fmt_ago(t, t + 3600 + 125) == "1h02m"
    assert fmt_ago(t, t + 86400 * 3).count("-") == 2  # a date
    assert fmt_ago(0.0, t) == ""  # never logged: blank, not "0s"
