"""Grouping by every key but the seed groups the seeds of one config even when the config
holds a key that differs in every run (a timestamp, an id), and ± reads with sensible
precision (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_tui_support import wait_for, write_run
from tui.app import RunwatchApp
from tui.fmt import fmt_mean_std
from tui.model.table_model import ALL_BUT_SEED
from tui.screens.main import MainScreen


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """lr x seed, each run with its own start timestamp and uuid in its config."""
    root = tmp_path / "runs"
    for i in range(6):
        lr, seed = [1e-3, 1e-2][i % 2], i // 2
        write_run(root, f"run{i:03d}", name=f"run-{i}", steps=5, t0=1_700_000_000.0 + i,
                  config={"lr": lr, "seed": seed, "started": 1_700_000_000.5 + i * 37.1,
                          "run_uuid": f"u-{i}-x", "bs": 32},
                  metrics=lambda s, i=i, lr=lr: {"acc": 0.02019 + (0.1 if lr > 5e-3 else 0.0),
                                                 "loss": 0.8 + 0.01 * i})
    return root


async def test_all_but_seed_leaves_out_keys_unique_to_every_run(root):
    async with RunwatchApp(root).run_test(size=(160, 30)) as pilot:
        app = pilot.app
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        screen = app.screen
        await wait_for(pilot, lambda: len(screen.model.visible_runs) == 6)
        screen.model.group_keys = ALL_BUT_SEED
        screen.refresh_table()
        groups = screen.model.groups
        assert sorted(len(g.runs) for g in groups.values()) == [3, 3]
        assert {g.values.get("lr") for g in groups.values()} == {1e-3, 1e-2}
        shown = [c.key.name for c in screen.model.cols if c.key.kind == "config"]
        assert "lr" in shown and "started" not in shown and "run_uuid" not in shown
        group_rows = [r for r in screen.model.rows if r.kind == "group"]
        now = 1_700_000_100.0
        cells = [dict(zip((c.label for c in screen.model.cols),
                          (t for t, _ in screen.model.group_cells(r, now)))) for r in group_rows]
        accs = sorted(c["acc"] for c in cells)
        assert accs == ["0.02019±0", "0.1202±0"]  # not 0.02019±2.8e-17
        assert all(len(c["loss"]) <= 12 and "e-" not in c["loss"] for c in cells)


def test_mean_std_rounds_std_to_two_digits_and_mean_to_match():
    assert fmt_mean_std(0.02019, 2.8e-17) == "0.02019±0"
    assert fmt_mean_std(0.83124, 0.012345) == "0.831±0.012"
    assert fmt_mean_std(0.5, 0.25) == "0.50±0.25"
    assert fmt_mean_std(12352.0, 213.0) == "12350±210"
    assert fmt_mean_std(3.14159, 1.5) == "3.1±1.5"
