"""scan_history's frames of float rows built from their bytes (logger/history_floats.py): the very
rows the general path gives (values decoded by msgspec, the three keys added after), byte for
byte as msgpack writes them (key order, int or float, NaN), on runs that mix float frames with
ints, strings, nested dicts, NaN/inf, missing keys, logged "_step"s, rows sharing a step, a
resume and a damaged frame between float frames."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import msgspec
import pytest

from logger import events as ev
from logger import history_read
from logger.history_read import HistoryScan
from tests.test_scale_read import A, B, _log, _start, _write

ODD = [3, -7, True, None, "s\x1b", [1, "a"], {"x": 0.5, "y": {"z": 2}}, math.nan, math.inf, -math.inf, -0.0]


def _values(rng: random.Random, step: int, held: dict[str, float]) -> dict[str, Any]:
    """Mostly float rows of one key set (held values for frames on end); now and then a row
    that breaks the layout: a value of another kind, a key left out or added or moved."""
    if rng.random() < 0.002:
        held[rng.choice(list(held))] = rng.choice([0.5, 2.0, -math.inf, -0.0])
    acc = rng.choice([math.nan, -0.0, 1e300]) if rng.random() < 0.02 else rng.random()
    row = {"loss": 1.0 / (step + 1), **held, "acc": acc}
    odd = rng.random() if step % 1500 in (17, 18, 900) else 1.0  # a frame (~260 rows) in three or so
    if odd < 0.3:
        row[rng.choice(list(row))] = rng.choice(ODD)
    elif odd < 0.45:
        row.pop(rng.choice(list(row)))
    elif odd < 0.6:
        row["_step"] = 0.25  # a logged "_step": its place kept, the step's value put in it
    elif odd < 0.75:
        row = dict(reversed(row.items()))
    elif odd < 1.0:
        row["extra"] = rng.choice([math.inf, 7])
    return row


def _logs(rng: random.Random, first: int, n: int, t0: float) -> list[ev.Log]:
    held = {"lr": 3e-4, "epoch": 1.0, "wd": 0.01, "beta": 0.9, "clip": 1.0, "inf": math.inf}
    logs, step = [], first
    for i in range(n):
        logs.append(_log(step, t0 + i * 0.01, **_values(rng, step, held)))
        step += 0 if rng.random() < 0.002 else 1  # now and then a row that shares its step
    return logs


def _run(root: Path, seed: int, damaged: bool) -> Path:
    rng = random.Random(seed)
    run = root / "p" / "r"
    first = _logs(rng, 0, 5000, 1000.0)
    _write(run, B, [*_start("script", 1000.0), *first])
    # A resume that goes on at the step the first writer stopped at: the two rows merge.
    again = _logs(rng, first[-1].step, 3000, 2000.0)
    path = _write(run, A, [*_start("script", 2000.0, follows=[B]), *again])
    if damaged:
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x55  # one frame lost between float frames, the rest reads
        path.write_bytes(bytes(data))
    return run


def _general(run: Path, window: tuple[int | None, int | None]) -> list[dict[str, Any]]:
    """The rows as pages() gave them before float frames were built from their bytes."""
    scan = HistoryScan(run, None, *window)
    return [row for chunk in scan.chunks() for row in scan.build(*scan.selected(*chunk))]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("damaged", [False, True])
@pytest.mark.parametrize("chunk", [900, 1 << 20])
@pytest.mark.parametrize("window", [(None, None), (40, 6100)])
def test_float_frames_give_the_general_paths_rows(tmp_path, monkeypatch, seed, damaged, chunk, window):
    run = _run(tmp_path / "runs", seed, damaged)
    built = []

    def counting(rows: Any, start: float) -> list[dict[str, Any]]:
        built.append(len(rows.steps))
        return real(rows, start)
    real = history_read.history_rows
    monkeypatch.setattr(history_read, "history_rows", counting)
    monkeypatch.setattr(history_read, "CHUNK", chunk)
    got = list(HistoryScan(run, None, *window).rows())
    want = _general(run, window)
    assert len(built) >= 3  # frames of float rows were read from their bytes
    assert msgspec.msgpack.encode(got) == msgspec.msgpack.encode(want)  # keys, order, types, NaN bits
    if damaged:
        assert len(got) < 8000 - 10


def test_a_frame_of_float_rows_is_built_with_its_three_keys_last(tmp_path):
    logs = [_log(s, 10.0 + s, loss=0.5 * s, lr=1e-3, _step=0.0) for s in range(500)]
    run = tmp_path / "runs" / "p" / "r"
    _write(run, A, [*_start("script", 10.0), *logs])
    rows = list(HistoryScan(run).rows())
    assert [list(r) for r in rows[::199]] == [["loss", "lr", "_step", "_timestamp", "_runtime"]] * 3
    assert rows[300] == {"loss": 150.0, "lr": 1e-3, "_step": 300, "_timestamp": 310.0, "_runtime": 300.0}
    assert type(rows[300]["_step"]) is int


def test_a_damaged_frame_after_frames_read_from_their_bytes_loses_only_its_rows(tmp_path, monkeypatch):
    """Past damage the rest is read again, skipping the rows given: a FloatRows counts as its
    rows (HeldFrameDecoder.count), or rows before the damage would come twice."""
    logs = [_log(s, 10.0 + s, loss=0.5 * s, lr=1e-3, wd=0.1, epoch=2.0) for s in range(4000)]
    run = tmp_path / "runs" / "p" / "r"
    path = _write(run, A, [*_start("script", 10.0), *logs])
    data = bytearray(path.read_bytes())
    data[len(data) * 3 // 4] ^= 0x55
    path.write_bytes(bytes(data))
    got = list(HistoryScan(run).rows())
    steps = [r["_step"] for r in got]
    assert steps == sorted(set(steps)) and 3000 < len(steps) < 4000
    assert msgspec.msgpack.encode(got) == msgspec.msgpack.encode(_general(run, (None, None)))


def test_a_run_whose_values_all_vary_is_decoded_not_read_from_its_bytes(tmp_path, monkeypatch):
    """Reading a frame as float rows pays only where most values are held (history_floats):
    rows whose values all vary are decoded, with no read of their bytes first."""
    from logger import float_frames

    reads = []
    real = float_frames._Layout.read
    monkeypatch.setattr(float_frames._Layout, "read", lambda self, payload: reads.append(1) or real(self, payload))
    vary = [_log(s, 10.0 + s, **{f"m{k}": s * 0.5 + k for k in range(8)}) for s in range(3000)]
    held = [_log(s, 10.0 + s, m0=s * 0.5, **{f"m{k}": 1.0 + k for k in range(1, 8)}) for s in range(3000)]
    for name, logs in (("vary", vary), ("held", held)):
        run = tmp_path / name / "p" / "r"
        _write(run, A, [*_start("script", 10.0), *logs])
        got = list(HistoryScan(run).rows())
        assert msgspec.msgpack.encode(got) == msgspec.msgpack.encode(_general(run, (None, None)))
        assert len(reads) > 5 if name == "held" else not reads, name



def _frames_of(run_dir: Path, groups: list[list[ev.Event]]) -> None:
    """A segment whose frames are `groups`, one frame each (each well under FRAME_BYTES)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    frames = b"".join(ev.frames_from([ev.encode_event(e) for e in group]) for group in groups)
    (run_dir / A).write_bytes(ev.HEADER + frames)


@pytest.mark.parametrize("inside", [False, True, None])
def test_rows_whose_values_all_vary_merge_where_they_share_a_step(tmp_path, inside):
    """Frames whose values all vary are decoded and built as they are taken apart, their steps'
    rise seen in the same loop (history_build.build_tuples): rows at one step merge as the
    general path merges them, where the step is shared across each frame boundary (each
    frame's own steps rising), or only inside each frame; where none is shared (None), the
    first pass proves the steps strictly rise and each frame's rows come as they are."""
    rng = random.Random(7)
    groups: list[list[ev.Event]] = [_start("script", 10.0)]
    step = 0
    for g in range(30):
        group = []
        for i in range(150):
            group.append(_log(step, 10.0 + g * 150 + i, **{f"m{k}": rng.random() for k in range(8)}))
            shared = i == (70 if inside else 149) and inside is not None  # 149: the next frame's first step
            step += 0 if shared else 1
        groups.append(group)
    run = tmp_path / "runs" / "p" / "r"
    _frames_of(run, groups)
    scan = HistoryScan(run)
    got = list(scan.rows())
    assert scan.strict is (inside is None)
    assert [r["_step"] for r in got] == sorted({e.step for g in groups[1:] for e in g if type(e) is ev.Log})
    assert msgspec.msgpack.encode(got) == msgspec.msgpack.encode(_general(run, (None, None)))


def test_a_finished_runs_varying_rows_come_whole_after_its_snapshot_proves_their_order(tmp_path):
    """A run the logger wrote and finished: pass one takes the order from its snapshot (which
    does not say whether steps repeat, so `strict` is not known), pass two sees each frame's
    rise as it builds it and gives its rows as they are, the last held back for the next
    frame's first; rows at a step logged twice (commit=False, then a log at that step) merge."""
    import logger

    run = logger.init(project="p", dir=str(tmp_path / "runs"), id="r")
    rng = random.Random(3)
    for i in range(2500):
        if i == 1234:
            run.log({"extra": 1.5}, step=i, commit=False)
        run.log({f"m{k}": rng.random() for k in range(8)}, step=i)
    run.finish()
    scan = HistoryScan(tmp_path / "runs" / "p" / "r")
    got = list(scan.rows())
    assert scan.writers[0].proven and not scan.strict
    assert [r["_step"] for r in got] == list(range(2500)) and got[1234]["extra"] == 1.5
    assert msgspec.msgpack.encode(got) == msgspec.msgpack.encode(_general(tmp_path / "runs" / "p" / "r", (None, None)))
