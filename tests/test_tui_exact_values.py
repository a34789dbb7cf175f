"""The screens where a person reads one value at a time show it as stored: the detail
screen's Config and Summary tabs, a group's members, the compare screen's config diff.
Four significant digits (the table's cells) made seed 123456789 read "1.23e+08", two
seeds that differ read alike, and the summary's _timestamp read "1.7e+09"."""

from __future__ import annotations

import pytest

from tests.test_tui_detail import open_detail
from tests.test_tui_main import started
from tests.test_tui_support import wait_for, write_run
from tui.app import RunwatchApp
from tui.fmt import fmt_exact
from tui.screens.compare import CompareScreen
from tui.widgets.run_table import RunTable

SEEDS = (123456789, 123456790)


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "runs"
    for i, seed in enumerate(SEEDS):
        write_run(root, f"run{i:03d}", name=f"run-{i}", steps=3, t0=1_700_000_000.25,
                  config={"seed": seed, "lr": 0.000314159 - i * 1e-9, "note": "a\nb"},
                  metrics=lambda s: {"loss": 0.123456789 / (s + 1)})
    return root


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def test_config_and_summary_tabs_show_values_as_stored(root):
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        await started(pilot, runs=2)
        detail = await open_detail(pilot)
        await pilot.press("3")
        await wait_for(pilot, lambda: "seed" in text_of(detail, "#info-config"))
        config = text_of(detail, "#info-config")
        assert any(f"seed  {seed}" in config for seed in SEEDS)
        assert "0.00031415" in config and "a\\nb" in config  # the whole string, escaped
        await pilot.press("4")
        await wait_for(pilot, lambda: "loss" in text_of(detail, "#info-summary"))
        summary = text_of(detail, "#info-summary")
        assert "_timestamp  1700000002.25" in summary  # not 1.7e+09: a date to the second
        assert "0.041152263" in summary  # loss at step 2, every digit logged


async def test_a_groups_members_tell_the_seeds_apart(root):
    async with RunwatchApp(root).run_test(size=(140, 40)) as pilot:
        screen = await started(pilot, runs=2)
        await pilot.press("g", *"note", "enter", "enter")  # one group: "note" is the same
        table = screen.query_one(RunTable)
        await wait_for(pilot, lambda: any(r.kind == "group" for r in screen.model.rows))
        table.move_to(next(i for i, r in enumerate(screen.model.rows) if r.kind == "group"))
        detail = await open_detail(pilot)
        await pilot.press("2")
        await wait_for(pilot, lambda: "run-1" in text_of(detail, "#info-run"))
        members = text_of(detail, "#info-run")
        assert all(f"seed={seed}" in members for seed in SEEDS)


async def test_a_config_diff_tells_the_seeds_apart(root):
    async with RunwatchApp(root).run_test(size=(140, 40)) as pilot:
        await started(pilot, runs=2)
        await pilot.press("space", "space", "C")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, CompareScreen))
        cmp = pilot.app.screen
        await wait_for(pilot, lambda: cmp.comparison is not None)
        rows = {r.key: r.values for r in cmp.comparison.config}
        assert sorted(rows["seed"]) == [str(s) for s in SEEDS]
        assert len(set(rows["lr"])) == 2  # 1e-9 apart, and shown apart


def test_fmt_exact_keeps_every_digit_and_escapes_text():
    assert fmt_exact(123456789) == "123456789" and fmt_exact(2**70) == str(2**70)
    assert fmt_exact(0.1) == "0.1" and fmt_exact(1796170229.090127) == "1796170229.090127"
    assert fmt_exact(float("nan")) == "nan" and fmt_exact(None) == "None"
    assert fmt_exact("x\x1b[31m\ny") == "x\\x1b[31m\\ny"
    assert fmt_exact({"_type": "table-file", "ncols": 2, "nrows": 3}) == "Table 3 rows x 2 cols"
    assert fmt_exact({"a": [1, "\x1b"]}) == '{"a":[1,"\\u001b"]}'
