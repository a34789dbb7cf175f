"""tail's frames of float rows read from their bytes (tui/tail_floats.py): byte for byte the
lines formatted a value at a time, whatever breaks the layout mid-frame (a key moved, missing
or added, a value of another kind) and whatever floats print oddly (nan, inf, -0.0, values
outside [0.01, 1e6))."""

from __future__ import annotations

import io
import math
import random

import msgspec
import pytest

from logger import events as ev
from tests.test_scale_read import A, _log, _start, _write
from tests.test_tail_bulk import _log_lines, _reference
from tui import tail_bulk, tail_floats, tail_json, tail_out
from tui.tail import Tail, TailOptions
from tui.tail_replay import replay

FLOATS = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1e-300, 1e300, 5e-5, 123456.7, 0.25, 999999.99996, 0.009999,
          -0.5, -0.01, 0.01, 1e6, -1e6, 3.0]
OTHER = [3, True, False, None, "a\x1bb%s", 2**62]
KEYS = ["loss", "acc%d", "lr", "k\x1b[2J", "_hidden", "x" * 50, "é"]


def _rows(seed: int, n: int = 1500, keys: list[str] = KEYS, floats: list[float] = FLOATS) -> list[dict]:
    """Float rows of one key set, runs of a constant value, and now and then a row that breaks
    the layout: keys in another order, one left out, one more, a value that is no float."""
    rng = random.Random(seed)
    const = {k: rng.choice(floats) for k in keys}
    rows = []
    for step in range(n):
        if rng.random() < 0.03:
            const[rng.choice(keys)] = rng.choice(floats)
        row = {k: (rng.uniform(0.02, 9) if k == "loss" else rng.choice(floats) if k == "lr" and step % 5 == 0
                   else const[k]) for k in keys}
        odd = rng.random() if step % 500 == 77 else 1.0  # a frame in three holds one
        if odd < 0.25:
            keys = list(row)
            i, j = rng.sample(range(len(keys)), 2)
            keys[i], keys[j] = keys[j], keys[i]
            row = {k: row[k] for k in keys}
        elif odd < 0.5:
            row.pop(rng.choice(keys))
        elif odd < 0.75:
            row["extra"] = 0.5
        elif odd < 1.0:
            row[rng.choice(keys)] = rng.choice(OTHER)
        rows.append(row)
    return rows


def _root(tmp_path, rows: list[dict], end: float = 1796127000.0):
    logs = [_log(s, 1796126212.0 + s * 0.01 + (s // 300) * 3, **row) for s, row in enumerate(rows)]
    fin = ev.Finish(time=end, exit_code=0, state="finished", error=None)
    root = tmp_path / "runs"
    _write(root / "p" / "r", A, [*_start("script", 1796126211.0), *logs, fin])
    return root, logs


def _replayed(root, monkeypatch, **opts) -> tuple[list[str], int]:
    """tail --no-follow's Log lines, and how many pieces came as FloatRows."""
    seen = []
    real = tail_out.TailLines.log_floats

    def counting(self, run, rows):
        seen.append(len(rows.steps))
        return real(self, run, rows)

    monkeypatch.setattr(tail_out.TailLines, "log_floats", counting)
    out = io.StringIO()
    replay(Tail(TailOptions(follow=False, **opts), out), root)
    text = out.getvalue()
    assert "\x1b" not in text
    return _log_lines(text, bool(opts.get("json"))), len(seen)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("opts", [{}, {"json": True}, {"metrics": ("lr", "loss", "acc*", "é")},
                                  {"since": 1796126215.5}], ids=str)
def test_float_rows_print_as_one_row_at_a_time(tmp_path, monkeypatch, seed, opts):
    root, logs = _root(tmp_path, _rows(seed))
    got, fast = _replayed(root, monkeypatch, **opts)
    since = opts.get("since")
    want = _reference(root, [e for e in logs if since is None or e.time >= since], **opts)
    assert got == want
    assert fast >= 1 and len(got) > 500


@pytest.mark.parametrize("seed", [4, 5])
@pytest.mark.parametrize("opts", [{"json": True}, {"json": True, "metrics": ("lr", "a.*", "é")}], ids=str)
def test_float_rows_as_json_are_the_lines_of_one_row_at_a_time(tmp_path, monkeypatch, seed, opts):
    keys = ["loss", "acc%d", "lr", "_hidden", "x" * 50, "é", "a.b"]  # none that msgspec takes for no field
    rows = _rows(seed, keys=keys, floats=[v for v in FLOATS if math.isfinite(v)])
    rows[1234]["lr"] = math.nan  # a frame whose JSON spells "NaN" (the template's, as one row's)
    root, logs = _root(tmp_path, rows)
    encoded: dict[str, list[bool]] = {"json_float_lines": [], "json_floats": []}
    for name in encoded:  # the template's lines (tail_json), then msgspec's (tail_bulk)
        real = getattr(tail_json if name == "json_float_lines" else tail_bulk, name)

        def counting(*args, real=real, name=name):
            text = real(*args)
            encoded[name].append(text is not None)
            return text

        monkeypatch.setattr(tail_out, name, counting)
    got, _ = _replayed(root, monkeypatch, **opts)
    assert got == _reference(root, logs, **opts)
    assert any(encoded["json_float_lines"])


@pytest.mark.parametrize("change", ["moved", "missing", "added", "int", "bool", "str", "none", "nested"])
def test_one_row_that_breaks_the_layout_prints_as_it_is(tmp_path, monkeypatch, change):
    rows = [{"a": 0.5 + s / 1000, "b": 2.0, "c": -3.25} for s in range(150)]
    row = rows[77]
    if change == "moved":
        rows[77] = {"b": row["b"], "a": row["a"], "c": row["c"]}
    elif change == "missing":
        del row["b"]
    elif change == "added":
        row["d"] = 1.5
    else:
        row["b"] = {"int": 2, "bool": True, "str": "2.0", "none": None, "nested": {"x": 2.0}}[change]
    root, logs = _root(tmp_path, rows)
    got, _ = _replayed(root, monkeypatch)
    assert got == _reference(root, logs)
    assert got[77].split("step 77  ")[1].startswith("b " if change == "moved" else "a ")


def test_rows_past_the_end_of_a_finished_run_print_after_it(tmp_path, monkeypatch):
    rows = [{"a": 0.5 + s / 1000, "b": 2.0} for s in range(400)]
    root, logs = _root(tmp_path, rows, end=1796126212.0 + 2.495)  # a run resumed, or a clock
    out = io.StringIO()
    replay(Tail(TailOptions(follow=False), out), root)
    lines = out.getvalue().splitlines(keepends=True)
    state = next(i for i, line in enumerate(lines) if "  finished" in line)
    logged = [i for i, line in enumerate(lines) if line.split("  ")[2].startswith("step ")]
    assert len(logged) == 400 and logged[250] > state > logged[249]
    assert _log_lines(out.getvalue(), False) == _reference(root, logs)


def test_a_frame_of_float_rows_is_read_without_a_dict_per_row():
    rows = [{"loss": 0.1 * s, "lr": 3e-4} for s in range(200)]
    payload = msgspec.msgpack.encode([ev.Log(step=1000 + s, time=1.0 + s, values=r) for s, r in enumerate(rows)])
    decode = tail_floats.FrameDecoder(lambda p: pytest.fail("the general decoder was used"))
    assert decode(payload)[0] == ("log", 1000, 1.0, rows[0])  # the layout learnt
    got = decode(payload)
    assert len(got) == 1 and type(got[0]) is tail_floats.FloatRows
    assert got[0].keys == ("loss", "lr") and got[0].dicts() == rows and got[0].steps == list(range(1000, 1200))
    rows[5] = {"lr": 3e-4, "loss": 0.5}  # keys in another order: rows as they are, in their order
    payload = msgspec.msgpack.encode([ev.Log(step=1000 + s, time=1.0 + s, values=r) for s, r in enumerate(rows)])
    got = decode(payload)
    assert [list(e[3]) for e in got[4:7]] == [["loss", "lr"], ["lr", "loss"], ["loss", "lr"]]


def test_a_value_held_for_frames_then_changed_mid_frame_prints_as_it_is(tmp_path, monkeypatch):
    """Frames after frames of one lr take it as skeleton (tail_floats' layout with constants);
    the frame where it changes, or where 0.0 turns -0.0, is read again without."""
    rows = [{"a": 0.5 + s / 1000, "lr": 1e-3 if s < 1450 else 0.02, "z": 0.0 if s < 2300 else -0.0,
             "n": math.nan} for s in range(3000)]
    root, logs = _root(tmp_path, rows)
    reads = []
    real = tail_floats._Layout.read

    def read(self, payload):
        got = real(self, payload)
        reads.append((bool(self.consts), got is not None))
        return got

    monkeypatch.setattr(tail_floats._Layout, "read", read)
    got, _ = _replayed(root, monkeypatch)
    assert got == _reference(root, logs)
    assert (True, True) in reads and (True, False) in reads  # constants taken, and given up
    assert "lr 0.001 " in got[1449] and "lr 0.0200" in got[1450]


def test_a_damaged_frame_after_float_frames_costs_its_rows_only_once(tmp_path):
    """Past damage the rest of a segment is read again by SegmentReader, skipping the events
    already printed: a piece of FloatRows counts as its rows (not one), so none prints twice."""
    rows = [{"a": 0.5 + s / 1000, "b": 2.0} for s in range(30000)]  # past the first read (a MiB)
    root, _logs = _root(tmp_path, rows)
    path = next((root / "p" / "r").glob("*.rws"))
    data = bytearray(path.read_bytes())
    data[len(data) * 2 // 3] ^= 0xFF  # a byte of a frame two thirds in
    path.write_bytes(bytes(data))
    out = io.StringIO()
    replay(Tail(TailOptions(follow=False), out), root)
    steps = [int(line.split("step ")[1].split()[0]) for line in _log_lines(out.getvalue(), False)]
    assert steps == sorted(set(steps)) and 29000 < len(steps) < 30000
