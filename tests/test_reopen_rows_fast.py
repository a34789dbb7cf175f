"""A reopen from the rows cache does no work twice (issue 14, tui/model/row_cache.py): the
metric columns it restored are not re-snapshotted, and an open that changed nothing does
not rewrite the rows file."""

from __future__ import annotations

from pathlib import Path

from tests.test_reopen_rows_cache import RUNS, _first_open, root  # noqa: F401 - the fixture
from tui.model.store import RunStore


async def test_the_restored_metric_columns_are_not_snapshotted_again(root: Path) -> None:  # noqa: F811
    await _first_open(root)
    posts: list[dict] = []  # type: ignore[type-arg]
    store = RunStore(root, post=posts.append)
    views = store.restore_newest()
    assert len(views) == RUNS and store.ghosts
    restored = store._snapshots.metrics
    assert restored  # the columns the first open chose
    store.snapshot_metrics(restored)  # what the screen chooses again on a reopen
    assert posts == []  # nothing re-made: every snapshot carries these sparklines
    store.snapshot_metrics(restored[:1])  # other columns: every run again
    assert len(posts) == 1 and len(posts[0]) == RUNS
