"""A reopened root's first screenful (issue 14): the newest runs come from the reopen cache
before anything else, their unpickling never holds the reader's lock (a screen's worker reads
what is shown meanwhile), and the rest waits until the first screenful is drawn."""

from __future__ import annotations

import asyncio
import io
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from logger.liveness import Observations
from logger.rundata import RunData
from tests.test_decim_cache import load, make_root
from tui.app import RunwatchApp
from tui.model import decim_cache, stats
from tui.model import store as store_module
from tui.model.store import RunStore
from tui.screens.main import MainScreen
from tui.widgets.chart_panel import ChartPanel

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    make_root(tmp_path / "runs")
    load(tmp_path / "runs")  # read once: the reopen cache is written
    return tmp_path / "runs"


def test_unpickling_a_reopen_leaves_the_readers_lock_free(root: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    store = RunStore(root)
    store._applied.set()  # no UI thread to wait for
    held: list[bool] = []

    class Watching(decim_cache._Unpickler):
        def load(self) -> Any:
            held.append(store._follower.lock.locked())
            return super().load()

    monkeypatch.setattr(decim_cache, "_Unpickler", Watching)
    store.first_pass()
    assert store.cache.restored == 3 and held == [False, False, False]


def test_the_newest_runs_are_restored_before_the_root_is_listed(
        root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = RunStore(root)
    store._applied.set()
    known: list[int] = []
    listing = store_module.segment_paths

    def segment_paths(where: Path, dirs: Any = None) -> list[Path]:
        known.append(len(store._follower.reader.runs))
        return listing(where, dirs)

    monkeypatch.setattr(store_module, "segment_paths", segment_paths)
    store.first_pass()
    assert known[0] == 3  # all three are among the NEWEST: in before the listing


async def test_the_reader_restores_the_rest_once_the_first_screenful_is_drawn(
        root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After the newest screenful the reader waits (FIRST_WAIT at most) until the App has
    drawn it: restoring the rest meanwhile took half the CPU its first paint needed."""
    monkeypatch.setattr(store_module, "FIRST_WAIT", 60.0)  # a loaded machine draws late
    waited: list[bool] = []
    app = RunwatchApp(root)
    drawn = app.store.drawn
    wait = drawn.wait

    def watched(timeout: float | None = None) -> bool:
        waited.append(wait(timeout))
        return waited[-1]

    monkeypatch.setattr(drawn, "wait", watched)
    async with app.run_test(size=(120, 40)):
        panel = app.screen.query_one(ChartPanel)
        for _ in range(500):
            if panel.draws and waited:
                break
            await asyncio.sleep(0.01)
        assert waited == [True] and drawn is not app.store._applied


def test_plotext_loads_without_pillow_or_unittest() -> None:
    """A chart's first draw imports plotext: without its image support and self-tests
    (~40 ms of the first screenful), Pillow still importable afterwards for the media panel."""
    code = ("import sys; from tui.widgets.chart import plotext; plt = plotext(); "
            "assert plt.figure is not None; "
            "print(sorted(m for m in ('PIL', 'unittest') if m in sys.modules)); "
            "from PIL import Image; print(Image.__name__)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, timeout=60, check=True).stdout.split()
    assert out == ["[]", "PIL.Image"]


def test_a_fine_decimation_of_single_points_is_cached_as_its_points(root: Path) -> None:
    """The newest runs' chart decimations hold one point a bucket: the cache keeps 2 of their
    6 arrays (a 1,000-step x 4-metric run: 196 KB -> ~70 KB), and restores all 6 exactly."""
    store = load(root)
    run = store._follower.reader.runs["p/nest"]  # 700 steps: a fine decimation, unhalved
    fine = [ks.fine for ks in run.sink.keys.values() if ks.fine is not None]
    assert fine and all(dec.n.count(1) == len(dec.n) for dec in fine)
    with store._follower.lock:
        blob = decim_cache._dumps(run)
    plain = io.BytesIO()
    pickler = pickle.Pickler(plain, protocol=5)
    pickler.dispatch_table = {Observations: lambda _o: (Observations, ()),
                              RunData: decim_cache._reduce_run}
    pickler.dump(run)
    assert len(blob) < 0.6 * len(plain.getvalue())
    again = decim_cache._Unpickler(io.BytesIO(blob)).load()
    for key, ks in run.sink.keys.items():
        if ks.fine is not None:
            back = again.sink.keys[key].fine
            assert type(back) is type(ks.fine)
            assert {s: getattr(back, s) for s in stats.Decimator.__slots__} == {
                s: getattr(ks.fine, s) for s in stats.Decimator.__slots__}


def test_the_cache_builds_nothing_but_decimations_from_points(root: Path) -> None:
    """_singles is callable from a cache entry: given another class, it refuses."""
    with pytest.raises(pickle.UnpicklingError):
        decim_cache._singles(dict, 8, 1, 0, 0, [1.0], [2.0])


async def test_a_reopened_roots_screen_mounts_with_its_newest_rows(
        root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The App restores the newest screenful before its main screen mounts: the screen's
    first layout has the rows (and the chart panel its size), not an empty table laid out
    again when they come."""
    seen: list[int] = []
    mount = MainScreen.on_mount

    def on_mount(self: MainScreen) -> None:
        seen.append(len(self.store.views))
        mount(self)

    monkeypatch.setattr(MainScreen, "on_mount", on_mount)
    app = RunwatchApp(root)
    async with app.run_test(size=(120, 40)):
        assert seen == [3]
