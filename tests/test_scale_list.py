"""Listing without the history: meta mode (snapshots, digests) gives what a full read gives."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import logger
from logger import Api
from logger import events as ev
from logger.edit import set_tags
from logger.reader import RootReader
from logger.run import Run
from tests.conftest import script_env


def _listing(root: Path, meta: bool) -> dict[str, tuple]:
    reader = RootReader(root, meta=meta)
    reader.scan()
    return {k: (r.state, r.summary_flat(), r.config, r.tags, r.name, r.notes, r.step, r.rows)
            for k, r in reader.runs.items()}


def _log(run, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        run.log({"loss": 1.0 / (i + 1), "acc": i * 0.5, "val/loss": float(n - i), "word": f"w{i}"})


def test_finished_run_lists_from_its_snapshot_without_rows(tmp_path):
    root = tmp_path / "runs"
    run = logger.init(project="p", dir=str(root), config={"lr": 0.1, "opt": {"b": 2}}, tags=["x"])
    run.define_metric("loss", summary="min,max,mean,first,last")
    run.define_metric("val/*", summary="max")
    _log(run, 3000)
    run.summary["best"] = 7
    run.finish()
    reader = RootReader(root, meta=True)
    reader.scan()
    (data,) = reader.runs.values()
    assert data._histories == {} and data.rows == 3000  # nothing but digests held
    assert _listing(root, True) == _listing(root, False)
    assert data.summary_flat()["loss"]["min"] == 1.0 / 3000


def test_crashed_resumed_edited_and_two_writers_list_the_same(tmp_path):
    root = tmp_path / "runs"
    code = ("import logger, os, signal\n"
            f"r = logger.init(project='p', id='crash', dir={str(root)!r})\n"
            "for i in range(500): r.log({'loss': i * 1.0})\n"
            "r._writer.flush()\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n")
    proc = subprocess.run([sys.executable, "-c", code], env=script_env(), timeout=60)
    assert proc.returncode == -signal.SIGKILL
    first = logger.init(project="p", id="res", dir=str(root))
    _log(first, 200)
    first.finish()
    again = logger.init(project="p", id="res", dir=str(root), resume="allow")
    _log(again, 100, start=500)
    again.summary["loss"] = -1.0  # by hand after logging: the writer's stats cannot say when
    again.finish()
    set_tags(root / "p" / "res", "res", [], ["edited"])
    ranks = [Run(root=root, project="p", run_id="ddp", name="ddp", notes=None, tags=[], group=None,
                 job_type=None, config={"rank": r}, allow_val_change=False, resumed=False,
                 role=f"rank {r}", meta={"command": [], "python": "3", "cwd": "/",
                                         "git_commit": None, "git_branch": None})
             for r in (0, 1)]
    for r, w in enumerate(ranks):
        w.define_metric("loss", summary="mean")
        _log(w, 300 + r * 7)
    for w in ranks:
        w.finish()
    meta, full = _listing(root, True), _listing(root, False)
    assert set(meta) == {"p/crash", "p/res", "p/ddp"}
    assert meta == full
    assert meta["p/crash"][0] == "crashed" and meta["p/res"][3] == ("edited",)


def test_a_damaged_snapshot_costs_a_full_read_not_a_wrong_listing(tmp_path):
    root = tmp_path / "runs"
    run = logger.init(project="p", id="dmg", dir=str(root))
    _log(run, 1000)
    run.finish()
    (seg,) = (root / "p" / "dmg").glob("*.rws")
    data = bytearray(seg.read_bytes())
    at = data.rfind(b"\xa4snap")
    assert at > 0
    data[at + 20] ^= 0xFF  # its checksum no longer holds
    seg.write_bytes(bytes(data))
    reader = RootReader(root, meta=True)
    reader.scan()
    (got,) = reader.runs.values()
    assert got.skipped_frames == 1 and got.rows == 1000
    assert _listing(root, True) == _listing(root, False)


def test_api_runs_is_lazy_and_oldest_first(tmp_path):
    root = tmp_path / "runs"
    for name in ("a", "b"):
        run = logger.init(project="p", name=name, dir=str(root))
        _log(run, 50)
        run.finish()
    runs = Api(root).runs("p")
    assert [r.name for r in runs] == ["a", "b"]
    assert all(r._data._histories == {} for r in runs)
    assert runs[0].summary["acc"] == 24.5
    assert [row["_step"] for row in runs[0].scan_history(keys=["acc"])][-1] == 49
    assert runs[0]._data.segment_paths() == sorted((root / "p" / runs[0].id).glob("*.rws"))


def test_api_run_by_path_is_lazy_as_runs_is(tmp_path):
    """W&B's other way in, `api.run("project/id")`, reads no rows either (a 1M-step run took
    seconds and a GB before it was asked for anything); its summary nests what was logged
    nested, from the snapshot and again from the index cache, as a full read's does."""
    root = tmp_path / "runs"
    run = logger.init(project="p", name="a", dir=str(root))
    for i in range(3000):
        run.log({"loss": 1.0 / (i + 1), "val": {"acc": i * 0.5}})
    run.finish()
    full = RootReader(root)
    full.scan()
    (want,) = full.runs.values()
    for cached in (False, True):
        if cached:
            Api(root).runs("p")  # writes the index cache
            assert _cache_files(tmp_path)
        got = Api(root).run(f"p/{run.id}")
        assert got._data._histories == {}
        assert got.summary == want.summary and got.summary["val"] == {"acc": 1499.5}
        assert got.config == want.config and got.state == "finished" and got.lastHistoryStep == 2999
        assert [r["_step"] for r in got.scan_history(keys=["loss"])][-1] == 2999
        assert len(got.history(samples=10**6)) == 3000


def test_the_cli_finds_a_run_without_reading_its_rows(tmp_path, capsys):
    """tag, note, logs and show find their run as a listing does (open_run): a 1M-step run was
    read whole, seconds and a GB, to print its tags. The edit still lands and reads back."""
    from tui.cli.common import open_run
    from tui.cli.edits import cmd_note, cmd_tag

    root = tmp_path / "runs"
    run = logger.init(project="p", name="a", dir=str(root), tags=["x"])
    _log(run, 3000)
    run.finish()
    _reader, data = open_run(f"p/{run.id}", str(root))
    assert data._histories == {} and data.meta and data.tags == ("x",) and data.rows == 3000
    assert cmd_tag("a", str(root), ["+best"], sys.stdout) == 0
    assert cmd_note("a", str(root), ["kept"], False, sys.stdout) == 0
    _reader, data = open_run("a", str(root))
    assert data._histories == {} and data.tags == ("x", "best") and data.notes == "kept"
    assert "tags x, best" in capsys.readouterr().out


def test_a_lazy_runs_writers_and_overlaps_read_no_rows(tmp_path):
    """run.writers and run.overlapping_steps of a run read by path or listed: what a full read
    says, from the first pass (a 1M-step run's writers read every row first: 4.5 s, a GB)."""
    root = tmp_path / "runs"
    run = logger.init(project="p", name="a", dir=str(root), id="r")
    _log(run, 100)
    run.finish()
    again = logger.init(project="p", dir=str(root), id="r", resume="must")
    _log(again, 100, start=100)
    again.finish()
    full = RootReader(root)
    full.scan()
    want = full.runs["p/r"]
    for got in (Api(root).run("p/r"), Api(root).runs("p")[0]):
        assert got.writers == want.writers and len(got.writers) == 2
        assert got.overlapping_steps == want.history.overlaps == 0
        assert got._data._full is None and got._data._histories == {}


def test_ls_lists_through_meta_mode(tmp_path):
    root = tmp_path / "runs"
    run = logger.init(project="p", name="one", dir=str(root))
    _log(run, 100)
    run.finish()
    out = subprocess.run([sys.executable, "-m", "tui", "ls", str(root)], env=script_env(),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "one" in out.stdout and "99" in out.stdout
    assert os.path.exists(root)
    assert ev.Snapshot in __import__("typing").get_args(ev.AnyEvent)


def _cache_files(tmp: Path) -> list[Path]:
    return sorted(Path(os.environ["XDG_CACHE_HOME"]).glob("runwatch/index-*"))


def test_the_index_cache_is_outside_the_root_and_a_second_open_reads_no_segment(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    run = logger.init(project="p", id="c", dir=str(root))
    _log(run, 500)
    run.finish()
    first = _listing(root, True)
    (cache,) = _cache_files(tmp_path)
    assert not any(p.name.startswith("index") for p in root.rglob("*"))
    assert _listing(root, True) == first == _listing(root, False)
    opened: list[str] = []
    real_open = os.open
    reader = RootReader(root, meta=True)
    monkeypatch.setattr(os, "open", lambda p, *a, **k: (opened.append(str(p)), real_open(p, *a, **k))[1])
    reader.scan()
    monkeypatch.undo()
    assert [p for p in opened if p.endswith(".rws")] == []  # state, summary and all from the cache
    assert cache.exists()


def test_a_stale_or_damaged_cache_is_harmless(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    monkeypatch.setenv("RUNWATCH_CACHE", "1")
    run = logger.init(project="p", id="s", dir=str(root))
    _log(run, 300)
    run._writer.flush()
    _listing(root, True)  # cached while the run is live, before its finish
    _log(run, 300, start=300)
    run.finish()
    assert _listing(root, True) == _listing(root, False)  # decoded on from the cached offset
    (cache,) = _cache_files(tmp_path)
    cache.write_bytes(b"\x93garbage")
    assert _listing(root, True) == _listing(root, False)
    cache.unlink()
    monkeypatch.setenv("RUNWATCH_CACHE", "0")
    assert _listing(root, True) == _listing(root, False)
    assert _cache_files(tmp_path) == []


def test_a_live_run_lists_from_its_periodic_snapshot(tmp_path):
    from logger.snapshot import SNAPSHOT_EVERY

    root = tmp_path / "runs"
    run = logger.init(project="p", id="live", dir=str(root), config={"a": 1})
    run.define_metric("loss", summary="min")
    i = 0
    (seg,) = (root / "p" / "live").glob("*.rws")
    while seg.stat().st_size < SNAPSHOT_EVERY + 200_000:
        _log(run, 2000, start=i)
        i += 2000
        run._writer.flush()
    kinds = [type(e) for e in ev.scan_frames(seg.read_bytes(), ev.HEADER_SIZE)[0]]
    assert ev.Snapshot in kinds and ev.Finish not in kinds
    meta, full = _listing(root, True), _listing(root, False)
    assert meta == full and meta["p/live"][0] == "running" and meta["p/live"][7] == i
    run.finish()
