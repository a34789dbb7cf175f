"""Readers never crash on anything a writer (old, buggy or hostile) can put in an event, and
discover only regular segment files, whatever their names."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logger import Api, RunwatchWarning
from logger import events as ev
from logger.query import compile_filter, matches
from logger.reader import RootReader

try:
    from logger.flat import flatten
except ImportError:  # (older code had no one flattening: these tests still read the rest)
    def flatten(values: Any) -> dict[str, Any]:
        return dict(values)

KINDS = [k for k in ev.AnyEvent.__args__ if k is not ev.Event]

keys = st.one_of(st.text(max_size=4), st.integers(-3, 3), st.floats(allow_nan=False), st.booleans(),
                 st.none(), st.binary(max_size=3))
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1),
                    st.floats(), st.text(max_size=8), st.binary(max_size=8))
anything = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=3)), max_leaves=12)
str_dicts = st.dictionaries(st.text(max_size=6), anything, max_size=4)


def _typed(tp: Any) -> st.SearchStrategy[Any]:
    """A value of the field's own type (so the event decodes), holding anything inside."""
    text = str(tp)
    if tp is int:
        return st.integers(-(2**63), 2**64 - 1)
    if tp is float:
        return st.floats()
    if tp is str:
        return st.text(max_size=12)
    if tp is bool:
        return st.booleans()
    if "dict" in text:
        return str_dicts if "Any" in text else st.dictionaries(st.text(max_size=6), st.integers(-9, 2**40))
    if "list" in text:
        inner = st.lists(st.text(max_size=6), max_size=3)
        return st.one_of(st.none(), inner) if "None" in text else inner
    if "None" in text:
        return st.one_of(st.none(), st.text(max_size=8))
    return anything


@st.composite
def raw_events(draw: st.DrawFn) -> bytes:
    """One event as msgpack: each field of its own type, or (now and then) anything at all."""
    kind = draw(st.sampled_from(KINDS))
    fields = msgspec.structs.fields(kind)
    values = [draw(_typed(f.type) if draw(st.integers(0, 9)) else anything) for f in fields]
    return msgspec.msgpack.encode([kind.__struct_config__.tag, *values])


def _start(host: str = "elsewhere") -> bytes:
    return ev.encode_event(ev.SegmentStart(version=ev.FORMAT_VERSION, run_id="r", role="script",
                                           host=host, pid=1, proc_start=0, boot_id="", time=1.7e9))


def _exercise(root: Path) -> None:
    """Everything a reader, the app, tail and the Api look at."""
    for keep in (True, False):
        reader = RootReader(root, keep_history=keep)
        reader.scan()
        reader.refresh_states()
        for run in reader.runs.values():
            h = run.history
            for key in h.keys():
                h.series(key), h.series(key, "_runtime"), h.columns[key].series()  # noqa: B018
                for other in h.keys()[:3]:
                    h.series(key, other)
            list(h.rows()), h.numeric_keys(), run.writers  # noqa: B018
            run.name, run.tags, run.notes, run.config, run.metrics, run.summary  # noqa: B018
            run.state, run.runtime, run.created_at, run.step, run.first_segment  # noqa: B018
            flatten(run.config), run.summary_flat()  # noqa: B018
            compile_filter("lr>1 tag:x word")(run)
            matches(run, {"created_at": {"$gt": "2020-01-01T00:00:00"}, "config.a.b": {"$ne": 1}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunwatchWarning)
        for run in Api(root).runs(order="-summary_metrics.loss"):
            run.created_at, run.metadata, run.summary, run.config, run.host  # noqa: B018
            run.history(pandas=False), list(run.scan_history(keys=["loss"])), run.files()  # noqa: B018
            run.lastHistoryStep, run.rewritten_steps, run.overlapping_steps  # noqa: B018


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(st.lists(raw_events(), min_size=1, max_size=8), st.booleans())
def test_no_event_a_writer_can_write_crashes_a_reader(tmp_path: Path, payloads: list[bytes],
                                                      one_frame: bool) -> None:
    root = tmp_path / "h"
    run_dir = root / "p" / "r"
    run_dir.mkdir(parents=True, exist_ok=True)
    body = [_start(), *payloads]
    frames = ev.frame(body) if one_frame else b"".join(ev.frame([p]) for p in body)
    (run_dir / "20260101T000000-script-1-aaaaaa.rws").write_bytes(ev.HEADER + frames)
    _exercise(root)


def test_nested_non_string_keys_from_old_writers_are_read_as_strings(tmp_path: Path) -> None:
    """`{"acc": {0: 0.9}}`, as old code logged it, in every dict of every kind."""
    nested = {"acc": {0: 0.9, (1, 2): "t", b"k": 1, None: {2.5: True}}}
    raw = [
        [ "run", "p", "r", None, ["t"], None, None, nested, ["train.py"], "3", "/", None, None,
          False, 1.7e9, []],
        ["config", nested, 1.7e9],
        ["log", 0, 1.7e9, {"loss": 1.0, **nested}],
        ["log", 1, 1.7e9 + 1, {"loss": 0.5, **nested}],
        ["summary", nested, [], 1.7e9 + 2],
        ["metric", "acc.0", None, "max", False, 1.7e9],
    ]
    run_dir = tmp_path / "h" / "p" / "r"
    run_dir.mkdir(parents=True)
    payloads = [_start(), *(msgspec.msgpack.encode(e) for e in raw)]
    (run_dir / "a.rws").write_bytes(ev.HEADER + ev.frame(payloads))
    _exercise(tmp_path / "h")
    reader = RootReader(tmp_path / "h")
    reader.scan()
    run = reader.runs["p/r"]
    assert run.history.columns["acc.0"].series() == ([0, 1], [0.9, 0.9])
    assert run.summary_flat()["acc.0"] == 0.9 and run.summary["acc"]["0"] == 0.9
    assert flatten(run.config)["acc.0"] == 0.9


def test_discovery_follows_regular_segments_only_whatever_their_names(tmp_path: Path) -> None:
    """A FIFO, a socket and a symlink named *.rws are never opened (a FIFO blocked every
    reader forever); directory and file names that are not UTF-8 are followed like others."""
    root = tmp_path / "runs"
    run_dir = root / "p" / "r1"
    run_dir.mkdir(parents=True)
    good = ev.HEADER + ev.frame([_start(), ev.encode_event(ev.Log(step=0, time=1.7e9, values={"a": 1}))])
    (run_dir / "20260101T000000-a.rws").write_bytes(good)
    os.mkfifo(run_dir / "fifo.rws")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(run_dir / "sock.rws"))
    os.symlink("/dev/zero", run_dir / "zero.rws")
    odd = os.path.join(os.fsencode(root), b"p", b"run-\xff\xfe")
    os.makedirs(odd)
    with open(os.path.join(odd, b"2026-\xe9.rws"), "wb") as f:
        f.write(good)
    try:
        code = (
            "import sys\nfrom logger.reader import RootReader\n"
            "r = RootReader(sys.argv[1]); r.scan(); r.read_paths(sys.argv[2:])\n"
            "print(sorted((k, len(v.history)) for k, v in r.runs.items()))\n"
        )
        paths = [str(run_dir / n) for n in ("fifo.rws", "sock.rws", "zero.rws")]
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        out = subprocess.run([sys.executable, "-c", code, str(root), *paths, str(run_dir)],
                             capture_output=True, timeout=20, env=env)
        assert out.returncode == 0, out.stderr
        found = out.stdout.decode("utf-8", "surrogateescape").strip()
        assert found == str([("p/r1", 1), ("p/run-\udcff\udcfe", 1)])
    finally:
        sock.close()
    from logger.reader import segment_files

    assert [p.name for p in segment_files(run_dir)] == ["20260101T000000-a.rws"]
    # Read in this process too: the odd run's name is surrogate-escaped, not a crash.
    reader = RootReader(root)
    start = time.monotonic()
    reader.scan()
    assert time.monotonic() - start < 5
    assert set(reader.runs) == {"p/r1", "p/run-\udcff\udcfe"}
