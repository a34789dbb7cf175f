"""The segment format under damage: round trips, truncation at every byte, flipped bytes,
and hypothesis mutating real segments. The reader must never raise and never return an
event that was not written."""

from __future__ import annotations

import json
import math
import typing
import warnings
from pathlib import Path
from typing import Any

import msgspec
import pytest
import relkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logger import events as ev
from logger.api import Api
from logger.reader import RootReader
from logger.segment import SegmentReader
from logger.writer import RunwatchWarning, SegmentWriter

EVENT_KINDS = typing.get_args(ev.AnyEvent)
FUZZ = settings(
    max_examples=relkit.scale(60, 2000), deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture],
)

# -- strategies -------------------------------------------------------------------------------
INT64 = st.integers(-(2**63), 2**63 - 1)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4),
), max_leaves=12)
value_dicts = st.dictionaries(st.text(max_size=12), values, max_size=6)
texts = st.text(max_size=30)
text_lists = st.lists(texts, max_size=4)


def _for_type(tp: Any) -> st.SearchStrategy[Any]:
    if tp is float:  # a wall clock: finite (NaN and inf times have a test of their own below)
        return st.floats(min_value=0, max_value=4e9)
    if tp is int:
        return INT64
    if tp is bool:
        return st.booleans()
    if tp is str:
        return texts
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        return st.one_of(*(_for_type(a) for a in args))
    if tp is type(None):
        return st.none()
    if origin is list:
        return text_lists
    if origin is dict:
        return value_dicts
    raise AssertionError(f"no strategy for {tp!r}")


# An artifact event names a directory of the store: hostile names have tests of their own below.
artifact_names = st.from_regex(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,20}", fullmatch=True)


def event_of(kind: type) -> st.SearchStrategy[Any]:
    fields = {f.name: _for_type(f.type) for f in msgspec.structs.fields(kind)}
    if kind is ev.ArtifactLogged:
        fields["name"] = artifact_names
    return st.builds(kind, **fields)


any_event = st.one_of(*(event_of(k) for k in EVENT_KINDS))
event_lists = st.lists(any_event, min_size=1, max_size=25)


def one_of_each() -> list[Any]:
    """Every event kind, with values that are easy to get wrong (unicode, NaN, nesting)."""
    return [
        ev.SegmentStart(version=1, run_id="abc123", role="rank 3", host="gpu-7", pid=4242,
                        proc_start=987654, boot_id="b00t", time=1.7e9),
        ev.RunStart(project="p", name="🚀 שלום run", notes="notes\nwith\tcontrol", tags=["a", "ß"],
                    group="g", job_type=None, config={"lr": 1e-3, "opt": {"name": "adam", "b": [0.9, 0.99]}},
                    command=["train.py", "--x"], python="3.11.7", cwd="/tmp", git_commit="0" * 40,
                    git_branch="main", resumed=False, time=1.7e9 + 1),
        ev.ConfigUpdate(values={"epochs": 10, "nested": {"deep": {"er": None}}}, time=1.7e9 + 2),
        ev.Log(step=0, time=1.7e9 + 3, values={"loss": math.nan, "acc": math.inf, "neg": -math.inf,
                                                 "big": 2**64 - 1, "s": "x" * 300, "l": [1, "a", None],
                                                 "n": {"a": {"b": -0.0}}}),
        ev.SummaryUpdate(values={"best": 0.5}, removed=["old"], time=1.7e9 + 4),
        ev.DefineMetric(name="val/*", step_metric="epoch", summary="min,max", hidden=True, time=1.7e9 + 5),
        ev.SetTags(tags=None, add=["x"], remove=["a"], time=1.7e9 + 6),
        ev.SetNotes(notes="مرحبا", time=1.7e9 + 7),
        ev.SetName(name="renamed", time=1.7e9 + 8),
        ev.ArtifactLogged(name="model", type="model", version=3, digest="f" * 64, size=12,
                          aliases=["best", "latest"], time=1.7e9 + 9),
        ev.FileSaved(path="ckpt/model.pt", policy="end", size=99, time=1.7e9 + 10),
        ev.Heartbeat(time=1.7e9 + 11),
        ev.Chart(key="roc", table_key="roc_table", spec={"panel_type": "Vega2", "x": [None, "é"]}, time=1.7e9 + 11),
        ev.Alert(title="loss \x1b[2J", text="nan", level="ERROR", wait_duration=0.5, time=1.7e9 + 11,
                 suppressed=True),
        ev.SystemStats(time=1.7e9 + 11.5, values={"cpu": 12.5, "gpu.0.temp": 71.0, "disk./.usageGB": 1.0}),
        ev.ConsoleChunk(time=1.7e9 + 11.6, stream="stderr", text="\r 50%|█ \x1b]52;c;eA==\x07\n"),
        ev.EditSeen(segments={"20260101T000000-script-1-abcdef.rws": 4096}, time=1.7e9 + 11),
        ev.Snapshot(time=1.7e9 + 11.7, events=14, rows=1, max_step=0, last_time=1.7e9 + 3,
                    stats={"loss": [math.nan, None, None, 0, 0.0, 0.0, 0.0, True, False]},
                    meta=[b"\x91\xa3hb"], meta_seq=[12]),
        ev.Finish(time=1.7e9 + 12, exit_code=3, state="failed", error="Traceback ...\nValueError"),
    ]


def segment_bytes(events: list[Any]) -> bytes:
    return ev.HEADER + b"".join(ev.encode(e) for e in events)


def read_file(path: Path) -> tuple[list[Any], SegmentReader]:
    seg = SegmentReader(path)
    return seg.read_new(), seg


# -- a real segment, written by the logger in a subprocess ------------------------------------
REAL_SCRIPT = """
import math, sys
import logger
root = sys.argv[1]
open("weights.bin", "wb").write(bytes(range(256)) * 8)
run = logger.init(project="real", id="seg", dir=root, name="réel 🚀", notes="n", tags=["a", "b"],
                  config={"lr": 0.01, "model": {"layers": 4, "act": "gelu"}})
logger.define_metric("val/loss", summary="min")
for i in range(40):
    if i % 4 == 0:
        run._writer.flush()  # several frames (one per flush), as a longer run has
    logger.log({"loss": 1 / (i + 1), "step_int": i, "val": {"loss": 2.0 - i / 40},
                "text": "é" * (i % 5), "odd": [i, None, math.nan] if i % 7 == 0 else math.inf})
run.summary["best"] = 0.25
run.tags = ["a", "c"]
logger.log_artifact("weights.bin", name="weights", type="model")
logger.save("weights.bin")
logger.finish()
"""


@pytest.fixture(scope="module")
def real_segment(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    work = tmp_path_factory.mktemp("real")
    script = relkit.write_script(work, "write_real.py", REAL_SCRIPT)
    proc = relkit.run_script(script, work / "runs")
    assert proc.returncode == 0, proc.stderr
    (path,) = relkit.segment_files(work / "runs" / "real" / "seg")
    return path.read_bytes()


# -- round trips --------------------------------------------------------------------------------
def test_one_of_each_covers_every_event_kind() -> None:
    assert {type(e) for e in one_of_each()} == set(EVENT_KINDS)


def test_every_event_kind_round_trips_through_writer_and_reader(tmp_path: Path) -> None:
    events = one_of_each()
    writer = SegmentWriter(tmp_path / "p" / "r1", "r1", role="script")
    for event in events[1:]:
        writer.append(ev.encode(event))
    writer.close()
    got, seg = read_file(writer.path)
    assert type(got[0]) is ev.SegmentStart and got[0].run_id == "r1"
    assert relkit.encoded(got[1:]) == relkit.encoded(events[1:])
    assert seg.skipped == 0 and seg.error is None


def test_every_event_kind_reaches_run_data(tmp_path: Path) -> None:
    events = one_of_each()
    writer = SegmentWriter(tmp_path / "p" / "r1", "r1")
    for event in events[1:]:
        writer.append(ev.encode(event))
    writer.close()
    run = relkit.read_root(tmp_path).runs["p/r1"]
    assert run.name == "renamed" and run.notes == "مرحبا" and run.tags == ("ß", "x")
    assert run.config == {"lr": 1e-3, "opt": {"name": "adam", "b": [0.9, 0.99]}, "epochs": 10,
                          "nested": {"deep": {"er": None}}}
    assert math.isnan(run.history.columns["loss"].values[0])
    assert run.history.columns["n.a.b"].values[0] == 0.0
    assert run.history.columns["big"].values == [2**64 - 1]
    assert run.summary_flat()["best"] == 0.5 and "val/*" in run.metrics
    assert [a.name for a in run.artifacts] == ["model"] and [f.path for f in run.files] == ["ckpt/model.pt"]
    assert (run.state, run.exit_code) == ("failed", 3) and "ValueError" in (run.error or "")


@FUZZ
@given(events=event_lists)
def test_random_event_sequences_survive_write_and_read(events: list[Any], tmp_path: Path) -> None:
    writer = SegmentWriter(tmp_path / "p" / "fuzz", "fuzz")
    for event in events:
        writer.append(ev.encode(event))
    writer.close()
    got, seg = read_file(writer.path)
    writer.path.unlink()
    assert relkit.encoded(got[1:]) == relkit.encoded(events)
    assert seg.skipped == 0


@FUZZ
@given(events=event_lists, cuts=st.lists(st.integers(0, 10**6), max_size=8))
def test_a_growing_file_read_at_any_moment_yields_each_event_once(
        events: list[Any], cuts: list[int], tmp_path: Path) -> None:
    """A reader following a file while it is written, however the bytes arrive."""
    data = segment_bytes(events)
    points = sorted({c % (len(data) + 1) for c in cuts} | {len(data)})
    path = tmp_path / "growing.rws"
    path.write_bytes(b"")
    seg = SegmentReader(path)
    got: list[Any] = []
    done = 0
    for point in points:
        with open(path, "ab") as f:
            f.write(data[done:point])
        done = point
        got += seg.read_new()
    path.unlink()
    assert relkit.encoded(got) == relkit.encoded(events)
    assert seg.skipped == 0


# -- truncation ---------------------------------------------------------------------------------
@pytest.mark.parametrize("source", ["real", "every-kind"])
def test_truncation_at_every_byte_returns_exactly_the_whole_frames(
        source: str, real_segment: bytes, tmp_path: Path) -> None:
    data = real_segment if source == "real" else segment_bytes(one_of_each())
    spans = relkit.frame_spans(data)
    per_frame = relkit.frame_events(data)
    full = relkit.encoded(ev.scan_frames(data, ev.HEADER_SIZE)[0])
    assert len(spans) > 10 and sum(per_frame, []) == full
    path = tmp_path / "cut.rws"
    for cut in range(len(data) + 1):
        path.write_bytes(data[:cut])
        seg = SegmentReader(path)
        got = relkit.encoded(seg.read_new())
        whole = sum(per_frame[:sum(1 for _, end in spans if end <= cut)], [])
        assert got == whole, f"cut at byte {cut}"
        assert seg.skipped == 0 and seg.error is None, f"cut at byte {cut}"
        # The rest arrives later: the reader resumes where it stopped, losing nothing.
        with open(path, "ab") as f:
            f.write(data[cut:])
        assert got + relkit.encoded(seg.read_new()) == full, f"resume after a cut at byte {cut}"


# -- flipped bytes ------------------------------------------------------------------------------
def _positions(start: int, end: int) -> list[int]:
    head = [start, start + 1, start + 2, start + 5, start + 6, start + 9]  # marker, length, crc
    body = start + ev.FRAME_HEAD_SIZE
    return sorted({*head, body, (body + end) // 2, end - 1})


def test_a_flipped_byte_loses_only_its_own_frame(real_segment: bytes) -> None:
    data = real_segment
    spans = relkit.frame_spans(data)
    per_frame = relkit.frame_events(data)
    checked = 0
    for i, (start, end) in enumerate(spans):
        expected = sum(per_frame[:i] + per_frame[i + 1:], [])
        for pos in _positions(start, end):
            for mask in (0x01, 0x80, 0xFF):
                damaged = bytearray(data)
                damaged[pos] ^= mask
                events, _consumed, skipped = ev.scan_frames(bytes(damaged), ev.HEADER_SIZE)
                assert relkit.encoded(events) == expected, f"frame {i}, byte {pos}"
                last = i == len(spans) - 1
                assert skipped == 1 or (last and skipped == 0), f"frame {i}, byte {pos}"
                checked += 1
    assert len(spans) > 10 and checked > 200


def test_a_damaged_run_reads_with_one_warning_through_the_api(real_segment: bytes, tmp_path: Path) -> None:
    spans = relkit.frame_spans(real_segment)
    i = len(spans) // 2
    start, end = spans[i]
    lost = [e for e in ev.scan_frames(real_segment[start:end])[0] if type(e) is ev.Log]
    assert lost, "the damaged frame should hold some steps"
    damaged = bytearray(real_segment)
    damaged[(start + end) // 2] ^= 0x40
    run_dir = tmp_path / "real" / "seg"
    run_dir.mkdir(parents=True)
    (run_dir / "x.rws").write_bytes(bytes(damaged))
    data = relkit.read_root(tmp_path).runs["real/seg"]
    assert data.skipped_frames == 1 and data.state == "finished"
    assert set(data.history.steps) == set(range(40)) - {e.step for e in lost}
    with pytest.warns(RunwatchWarning, match=r"1 damaged frame"):
        run = Api(tmp_path).run("real/seg")
    assert run.summary["best"] == 0.25


@pytest.mark.parametrize("pos", range(ev.HEADER_SIZE))
def test_a_damaged_header_never_raises(pos: int, real_segment: bytes, tmp_path: Path) -> None:
    full = relkit.encoded(ev.scan_frames(real_segment, ev.HEADER_SIZE)[0])
    for mask in (0x01, 0xFF):
        damaged = bytearray(real_segment)
        damaged[pos] ^= mask
        path = tmp_path / f"h{mask}.rws"
        path.write_bytes(bytes(damaged))
        got, seg = read_file(path)
        if got:  # e.g. an older version number: still our format
            assert relkit.encoded(got) == full
        else:
            assert seg.error and str(path) in seg.error


# -- mutation: flip, drop, duplicate, insert, truncate ----------------------------------------
mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("drop"), st.integers(0, 10**6), st.integers(1, 64)),
    st.tuples(st.just("dup"), st.integers(0, 10**6), st.integers(1, 256)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("truncate"), st.integers(0, 10**6), st.just(0)),
)


def mutate(data: bytes, ops: list[tuple[str, int, Any]], keep_header: bool) -> bytes:
    buf = bytearray(data)
    low = ev.HEADER_SIZE if keep_header else 0
    for op, at, arg in ops:
        if len(buf) <= low:
            break
        pos = low + at % (len(buf) - low)
        if op == "flip":
            buf[pos] ^= arg
        elif op == "drop":
            del buf[pos:pos + arg]
        elif op == "dup":
            buf[pos:pos] = buf[pos:pos + arg]
        elif op == "insert":
            buf[pos:pos] = arg
        else:
            del buf[pos:]
    return bytes(buf)


@pytest.fixture(scope="module")
def mutation_sources(real_segment: bytes) -> dict[str, tuple[bytes, set[bytes]]]:
    sources = {"real": real_segment, "every-kind": segment_bytes(one_of_each())}
    return {k: (d, set(relkit.encoded(ev.scan_frames(d, ev.HEADER_SIZE)[0]))) for k, d in sources.items()}


@FUZZ
@given(source=st.sampled_from(["real", "every-kind"]), ops=st.lists(mutation, min_size=1, max_size=6),
       keep_header=st.booleans(), cuts=st.lists(st.integers(0, 10**6), max_size=5))
def test_mutated_segments_never_raise_and_never_invent_events(
        source: str, ops: list[Any], keep_header: bool, cuts: list[int], mutation_sources: Any,
        tmp_path: Path) -> None:
    data, written = mutation_sources[source]
    damaged = mutate(data, ops, keep_header)
    # Whole, through the frame scanner ...
    events, _, _ = ev.scan_frames(damaged, min(ev.HEADER_SIZE, len(damaged)))
    invented = [e for e in relkit.encoded(events) if e not in written]
    assert not invented, f"returned events that were never written: {invented[:3]}"
    # ... as it grows, the way a live reader follows it ...
    run_dir = tmp_path / "m" / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    growing = run_dir / "seg.rws"
    growing.write_bytes(b"")
    seg = SegmentReader(growing)
    done = 0
    for point in sorted({c % (len(damaged) + 1) for c in cuts} | {len(damaged)}):
        with open(growing, "ab") as f:
            f.write(damaged[done:point])
        done = point
        invented = [e for e in relkit.encoded(seg.read_new()) if e not in written]
        assert not invented, f"a live reader returned events never written: {invented[:3]}"
    # ... and as a run directory, through the root reader and the API.
    reader = relkit.read_root(tmp_path)
    for run in reader.runs.values():
        for seg in run.segments.values():
            assert seg.start is None or relkit.encoded([seg.start])[0] in written
        relkit.exercise(run)
    relkit.exercise_api(tmp_path)
    (run_dir / "seg.rws").unlink()


@FUZZ
@given(segments=st.lists(st.lists(any_event, max_size=12), min_size=1, max_size=3))
def test_any_well_framed_events_read_without_raising(segments: list[list[Any]], tmp_path: Path) -> None:
    """Segments another tool (or an attacker) wrote: odd names, tags, steps, config shapes."""
    run_dir = tmp_path / "h" / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    for i, events in enumerate(segments):
        (run_dir / f"{i}.rws").write_bytes(segment_bytes(events))
    reader = RootReader(tmp_path)
    reader.scan()
    reader.refresh_states()
    for run in reader.runs.values():
        relkit.exercise(run)
    relkit.exercise_api(tmp_path)
    for path in run_dir.iterdir():
        path.unlink()


# -- bugs this suite found in logger/ (each fixed; the test stays) ------------------------------
def test_a_frame_inside_a_logged_bytes_value_never_surfaces(tmp_path: Path) -> None:
    inner = ev.encode(ev.Log(step=999, time=1.0, values={"phantom": 1}))
    outer = ev.encode(ev.Log(step=0, time=1.0, values={"blob": inner, "pad": b"x" * 20}))
    assert ev.scan_frames(outer)[0][0].step == 0  # whole, it reads as written
    flipped = outer[:20] + bytes([outer[20] ^ 0xFF]) + outer[21:]  # inside the payload
    for damaged in (outer[:-1], outer[:-10], flipped):
        events, _, _ = ev.scan_frames(damaged)
        assert [e.step for e in events] == [], "a value was read back as an event"


def test_a_step_beyond_int64_does_not_break_the_root(tmp_path: Path) -> None:
    run_dir = tmp_path / "p" / "huge"
    run_dir.mkdir(parents=True)
    (run_dir / "s.rws").write_bytes(segment_bytes([
        ev.Log(step=2**63, time=1.0, values={"x": 1}), ev.Log(step=2**64 - 1, time=1.5, values={"x": 1}),
        ev.Log(step=0, time=2.0, values={"x": 2})]))
    reader = relkit.read_root(tmp_path)
    run = reader.runs["p/huge"]
    relkit.exercise(run)
    assert run.history.series("x") == ([0.0], [2.0])


def test_a_deeply_nested_payload_is_skipped_not_raised() -> None:
    nested = b"\x81\xa1a" * 5000 + b"\x01"
    event = b"\x94\xa3log\x00\xcb" + msgspec.msgpack.encode(1.0)[1:] + b"\x81\xa1v" + nested
    payload = b"\x91" + event  # a frame holds an array of events
    frame = ev.FRAME_HEAD.pack(ev.MARKER, len(payload), ev._crc32(payload)) + payload
    good = ev.encode(ev.Log(step=1, time=1.0, values={"x": 1}))
    events, _, _ = ev.scan_frames(frame + good)
    assert [e.step for e in events] == [1]


@pytest.mark.parametrize("when", [math.inf, math.nan])
def test_a_non_finite_time_reads_through_the_api(when: float, tmp_path: Path) -> None:
    start = one_of_each()[0]
    run_dir = tmp_path / "p" / "t"
    run_dir.mkdir(parents=True)
    (run_dir / "s.rws").write_bytes(segment_bytes([msgspec.structs.replace(start, time=when)]))
    relkit.exercise_api(tmp_path)


def _artifact_run(root: Path, name: str) -> None:
    run_dir = root / "p" / "a"
    run_dir.mkdir(parents=True)
    (run_dir / "s.rws").write_bytes(segment_bytes([one_of_each()[0], ev.ArtifactLogged(
        name=name, type="model", version=0, digest="0" * 64, size=1, aliases=[], time=1.0)]))


def test_an_artifact_event_with_a_nul_name_reads(tmp_path: Path) -> None:
    _artifact_run(tmp_path, "a\x00b")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunwatchWarning)
        assert Api(tmp_path).run("p/a").logged_artifacts() == []


def test_an_artifact_event_cannot_reach_outside_the_store(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    _artifact_run(root, "../../evil")
    secret = tmp_path / "secret.txt"
    secret.write_text("not part of any run")
    (root / "p" / "artifacts" / "objects").mkdir(parents=True)  # the project has a store
    evil = root / "evil"
    evil.mkdir()
    digest = "../" * 12 + str(secret).lstrip("/")
    (evil / "v0.json").write_text(json.dumps({
        "name": "evil", "type": "model", "digest": "x", "size": 1, "aliases": [],
        "files": {"loot.txt": {"digest": digest, "size": 1}}}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunwatchWarning)
        arts = Api(root).run("p/a").logged_artifacts()
    copied = [Path(a.download(tmp_path / "dl")) for a in arts]
    assert not any((d / "loot.txt").exists() for d in copied), "a file outside the run was copied"
    assert arts == []
