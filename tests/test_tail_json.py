"""`tail --json`'s lines for frames of float rows from one repeated template (tui/tail_json.py):
byte for byte the lines the general path writes a row at a time, over frames of odd floats
(NaN, infinities, -0.0 next to 0.0, huge and tiny values, integral floats), frames of ints
and strings, times on one second and across seconds (and one whose microseconds round up),
and a damaged frame between frames of floats."""

from __future__ import annotations

import io
import math
import random

import pytest

from logger import events as ev
from tests.test_scale_read import A, _log, _start
from tests.test_tail_bulk import _log_lines, _reference
from tui import tail_json, tail_out
from tui.tail import Tail, TailOptions
from tui.tail_bulk import Clock, json_text
from tui.tail_floats import FloatRows
from tui.tail_replay import replay

T0 = 1796126212.0
R = 500  # rows a frame: a frame is then most of a piece the reader decodes (history_frames.PIECE)
ROUND_UP = 11  # the frame whose times' microseconds round up to the next second
FIRST = 1000  # the first step: every step of the run two bytes wide, one layout throughout


def _frames() -> list[list[dict]]:
    """Frames of rows (a dict of values each), in the order written."""
    n = range(R)
    odd = [1e300, 5e-324, 1e16, 1e-7, 123456789.123, 2.0**53, 1e22, -1e-5, 0.1, 1 / 3, 1e-4, 9.999e15]
    return [
        [{"a": 0.5 + i / 7, "b%d": 2.0, "é": -3.25} for i in n],  # 0: read with the segment's start
        [{"a": 0.25 * i, "b%d": -0.0, "é": (0.0, -0.0)[i % 2]} for i in n],  # 1: 0.0 and -0.0 varying
        [{"a": odd[i % len(odd)], "b%d": -0.0, "é": -odd[i % len(odd)]} for i in n],  # 2: huge, tiny
        [{"a": odd[-i % len(odd)], "b%d": -0.0, "é": 1e-300} for i in n],  # 3: -0.0 held in the skeleton
        [{"a": math.nan if i == 17 else 1.5, "b%d": 2.0, "é": 0.5} for i in n],  # 4: a NaN
        [{"a": (1.5 + i, math.nan, math.inf, -math.inf)[i % 4], "b%d": math.inf, "é": -math.inf}
         for i in n],  # 5: infinities, and varying beside NaN
        [{"a": i, "b%d": 2.0, "é": 0.5} for i in n],  # 6: ints
        [{"a": 0.5, "b%d": f"s%s\x1b[2J{i}", "é": 0.5} for i in n],  # 7: strings, escapes
        *([{"a": 0.5 + i + f, "b%d": 3.0, "é": -math.inf} for i in n] for f in range(6)),  # 8-13: held values
    ]


def _times(f: int) -> list[float]:
    """A frame's times: in one second (every third), across seconds, or rounding up."""
    base = T0 + f * 100
    if f == ROUND_UP:
        return [base + 0.9999996 + i * 1e-10 for i in range(R)]
    if f == 10:  # fast logging: every row in one millisecond
        return [base + 0.5 + i * 1e-9 for i in range(R)]
    if f == 12:  # ... or across a few
        return [base + 0.0007 + i * 3e-6 for i in range(R)]
    if f % 3 == 0:
        return [base + 0.001 * i + 0.0000137 for i in range(R)]
    return [base + 0.13 * i for i in range(R)]


def _root(tmp_path, damaged: int | None = None):
    """A run whose segment holds each frame as written (not re-packed), `damaged` with one
    byte of its body flipped; returns the root and the Log events a reader can read."""
    step, logs, kept, frames = FIRST, [], [], []
    for f, rows in enumerate(_frames()):
        frame_logs = [_log(step + i, t, **row) for i, (t, row) in enumerate(zip(_times(f), rows))]
        step += len(rows)
        data = bytearray(ev.frame([ev.encode_event(e) for e in frame_logs]))
        if f == damaged:
            data[len(data) // 2] ^= 0x55
        else:
            kept += frame_logs
        frames.append(bytes(data))
        logs += frame_logs
    fin = ev.Finish(time=T0 + 2000, exit_code=0, state="finished", error=None)
    root = tmp_path / "runs"
    d = root / "p" / "r%s"
    d.mkdir(parents=True)
    (d / A).write_bytes(ev.HEADER + ev.frame([ev.encode_event(e) for e in _start("script", T0 - 1)])
                        + b"".join(frames) + ev.frame([ev.encode_event(fin)]))
    return root, kept


HELD: dict[int, dict[str, float]] = {}  # each frame's values held in its skeleton (tail_floats)


def _fast_counted(monkeypatch) -> dict[int, bool]:
    """Whether each frame of floats (by its index) came out of the template (tail_json)."""
    got: dict[int, bool] = {}
    HELD.clear()
    real = tail_json.json_float_lines

    def counting(head, shown, rows, clock):
        out = real(head, shown, rows, clock)
        got[(rows.steps[0] - FIRST) // R] = out is not None
        HELD[(rows.steps[0] - FIRST) // R] = dict(rows.consts)
        return out

    monkeypatch.setattr(tail_out, "json_float_lines", counting)
    return got


@pytest.mark.parametrize("damaged", [None, 9])
@pytest.mark.parametrize("metrics", [(), ("é", "a")], ids=str)
def test_template_lines_are_the_general_lines_byte_for_byte(tmp_path, monkeypatch, damaged, metrics):
    root, logs = _root(tmp_path, damaged)
    fast = _fast_counted(monkeypatch)
    out = io.StringIO()
    replay(Tail(TailOptions(follow=False, json=True, metrics=metrics), out), root)
    got = _log_lines(out.getvalue(), True)
    assert got == _reference(root, logs, json=True, metrics=metrics)
    assert len(got) == R * (14 if damaged is None else 13)
    # From the template: across seconds (1, 2), in one second with -0.0 held (3), a NaN (4),
    # infinities varying beside a NaN (5), spelled "NaN", "Infinity", "-Infinity" as the general
    # path spells them. Past the damage SegmentReader reads: events, no frames.
    assert {f: fast[f] for f in (1, 2, 3, 4, 5)} == {1: True, 2: True, 3: True, 4: True, 5: True}
    assert math.copysign(1, HELD[3]["b%d"]) == -1  # -0.0 written into the template, not 0.0
    if damaged is None:
        assert HELD[10] == {"b%d": 3.0, "é": -math.inf}  # -inf held: "-Infinity" in the template
        assert fast[9] and fast[10] and fast[12] and not fast[ROUND_UP]  # held values in the template; a time rounding up
    else:
        assert max(fast) < damaged
    text = "".join(got)
    assert '"é":-0.0' in text and '"é":0.0' in text  # -0.0 is never taken for 0.0, nor 0.0 for -0.0
    assert ('"b%d":-0.0' in text) == (not metrics)


@pytest.mark.parametrize("seed", range(12))
def test_times_near_a_millisecond_or_a_second_read_as_clock_iso_writes_them(seed):
    """Times a few microseconds either side of millisecond boundaries (where the microseconds
    round across one), in order or not, in one millisecond, a few, many, or several seconds."""
    rng = random.Random(seed)
    sec = 1796126212 + rng.randrange(3)
    start = rng.randrange(1, 995)
    span = range(start, min(1000, start + rng.choice([3, 9, 400])), rng.choice([1, 2, 7]))  # few ms, or many
    edges = [sec + k / 1000 + d for k in span for d in (-5e-7, -4.9999e-7, 0.0, 4.9999e-7, 5e-7, 2e-6)]
    times = sorted(rng.sample(edges, min(len(edges), 200)))
    if seed % 3 == 1:
        times = [sec + 0.123 + i * 1e-9 for i in range(50)]  # one millisecond
    if seed % 3 == 2:
        rng.shuffle(times)  # out of order (a clock stepped back)
    head = {"run": "p/r", "project": "p", "id": "r", "name": "n"}
    rows = FloatRows(("v",), tuple(x for i, t in enumerate(times) for x in (i, t, 0.5 + i)))
    clock = Clock()
    fast = tail_json.json_float_lines(head, ("v",), rows, clock)
    want = json_text(head, ("v",), clock.isos(rows.times), rows.times, rows.steps, rows.dicts())
    if fast is None:  # only where a time's microseconds round up to the next second
        assert any(round((t - int(t)) * 1e6) >= 1_000_000 for t in times)
    else:
        assert fast[0].decode() == want and fast[1]
