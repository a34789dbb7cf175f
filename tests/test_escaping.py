"""Hostile text in every field of every event kind, and in the names of the directories that
hold a run, comes out of every headless command escaped (text) or as valid UTF-8 JSON.

The segment is written by hand, one event of each kind in logger/events.py's union with every
field filled from its type, so a new event kind or field is covered without touching this
file (an unknown field type fails `hostile_value`: teach it the type). The names are not
valid UTF-8 either: every `--json` and a live `tail` crashed on such a name.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
import typing
from pathlib import Path
from typing import Any

import msgspec
import pytest

from logger import events as ev
from logger.textsafe import safe_text, terminal_safe, terminal_text, without_surrogates
from tui.fmt import short, to_json

from .test_cli_support import REPO, Lines, env, read_on_a_pty, stop

# ESC/CSI, OSC 52 (clipboard write), BEL, C1 CSI and NEL, bidi override and isolate, NUL,
# DEL, a line separator, Rich markup, a newline.
H = "ev\x1b[31mil\x1b]52;c;aGk=\x07[bold red]x[/]\nl2\x9b2J\x85\u202e\u2066\x00\x7f\u2028z"
# Directory names: no "/" or NUL, and bytes that are not UTF-8 (\xff, \xfe) besides UTF-8 C1.
PROJECT_DIR = b"pr\x1b]52;c;aGk=\x07oj\xff"
RUN_DIR = b"r\x1b[2Jun\xc2\x9b\xe2\x80\xaeid\xfe"
PROJECT, RUN_ID = os.fsdecode(PROJECT_DIR), os.fsdecode(RUN_DIR)
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                    "\u2066-\u2069\ud800-\udfff]")
T0 = time.time() - 3600  # an hour ago: the writer is long gone, its Finish decides the state


def hostile_value(name: str, kind: Any) -> Any:
    """A value of type `kind` for field `name`, hostile wherever the type allows text."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if kind is str or kind is Any:
        return H
    if kind is bool:
        return False
    if kind is int:
        return ev.FORMAT_VERSION if name == "version" else 7
    if kind is float:
        return T0
    if origin is typing.Union or type(kind).__name__ == "UnionType":
        return hostile_value(name, next(a for a in args if a is not type(None)))
    if origin is list:
        return [hostile_value(name, args[0]), hostile_value(name, args[0])]
    if origin is dict:
        # numbers too: they become metric columns, whose headers are the hostile keys
        return {H: hostile_value(name, args[1]), "loss": 0.5, H + "n": 1.5, "nest": {H: H}}
    raise AssertionError(f"{name}: no hostile value for type {kind!r}; add one here")


def hostile_events() -> list[Any]:
    """One event of each kind, SegmentStart first, Finish last, every field filled."""
    kinds = typing.get_args(ev.AnyEvent)
    order = sorted(kinds, key=lambda k: (k is not ev.SegmentStart, k is ev.Finish))
    return [k(**{f.name: hostile_value(f.name, f.type) for f in msgspec.structs.fields(k)})
            for k in order]


def write_segment(run_dir: bytes, events: list[Any]) -> None:
    os.makedirs(run_dir, exist_ok=True)
    path = os.path.join(run_dir, b"0001-script.rws")
    with open(path, "wb") as f:
        f.write(ev.HEADER + b"".join(ev.encode(e) for e in events))
    os.utime(path, (T0, T0))


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("escaping") / "runs"
    write_segment(os.path.join(os.fsencode(root), PROJECT_DIR, RUN_DIR), hostile_events())
    return root


def run_dir(root: Path) -> bytes:
    return os.path.join(os.fsencode(root), PROJECT_DIR, RUN_DIR)


def rw(*args: str | bytes | Path, stdin: bytes | None = None, cwd: Path = REPO) -> tuple[str, str]:
    """`runwatch ARGS` on pipes: (stdout, stderr), both checked to be valid UTF-8."""
    argv = [sys.executable, "-m", "tui", *(os.fsencode(a) for a in args)]
    proc = subprocess.run(argv, env=env(), cwd=cwd, input=stdin, capture_output=True, timeout=60)
    out, err = proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")
    assert proc.returncode == 0, err
    return out, err


def on_a_terminal(*args: str | bytes | Path) -> str:
    """`runwatch ARGS` with stdout a raw-mode terminal: every byte it wrote, as UTF-8."""
    argv = [sys.executable, "-m", "tui", *(os.fsencode(a) for a in args)]
    return read_on_a_pty(argv, env(), REPO)


def assert_safe(text: str, where: str) -> None:
    raw = sorted({repr(c) for c in UNSAFE.findall(text)})
    assert not raw, f"{where}: raw {', '.join(raw)} reached the output:\n{text[:3000]}"


def assert_shows_names(text: str, where: str) -> None:
    """The run's names are there, escaped: nothing was left out to look safe."""
    for name in (PROJECT, RUN_ID):
        assert safe_text(name) in text, f"{where}: {safe_text(name)} missing from\n{text[:3000]}"


def test_every_event_kind_is_in_the_hostile_segment() -> None:
    kinds = {type(e) for e in hostile_events()}
    assert kinds == set(typing.get_args(ev.AnyEvent))
    data = ev.HEADER + b"".join(ev.encode(e) for e in hostile_events())
    events, _, skipped = ev.scan_frames(data, ev.HEADER_SIZE)
    assert skipped == 0 and len(events) == len(kinds)  # every hostile event reads back


def strings_in(obj: Any) -> set[str]:
    """Every string in a JSON value, keys too."""
    if isinstance(obj, dict):
        return set(obj).union(*(strings_in(v) for v in obj.values()))
    if isinstance(obj, list):
        return set().union(*(strings_in(v) for v in obj))
    return {obj} if isinstance(obj, str) else set()


def args_for(argv: list[str], root: Path) -> list[str | bytes | Path]:
    return [run_dir(root) if a == "{run}" else root if a == "{root}" else a for a in argv]


@pytest.mark.parametrize("argv", [
    ["ls", "{root}"], ["show", "{run}"], ["tail", "{root}", "--no-follow"],
    ["tag", "{run}", "+plain2"], ["tag", "{run}"], ["note", "{run}", "a note"],
], ids=["ls", "show", "tail", "tag", "tag-print", "note"])
def test_hostile_text_and_names_come_out_escaped(argv: list[str], root: Path) -> None:
    out, err = rw(*args_for(argv, root))
    where = argv[0]
    assert_safe(out, where)
    assert_safe(err, where + " (stderr)")
    if argv[0] != "tail":  # tail's lines name a run by project and name
        assert safe_text(RUN_ID)[:12] in out, f"{where}: the run's id is missing:\n{out}"
    if argv[0] in ("ls", "show", "tail"):
        assert safe_text(PROJECT) in out, f"{where}: the project is missing:\n{out}"
        assert "\\x1b]52;c;a" in out, f"{where}: no hostile field shown:\n{out}"
    if argv[0] in ("show", "tail"):
        assert safe_text(H) in out, f"{where}: no whole hostile field:\n{out}"


@pytest.mark.parametrize("argv", [
    ["ls", "{root}", "--json"], ["show", "{run}", "--json"], ["tail", "{root}", "--no-follow", "--json"],
    ["export", "{run}", "-f", "jsonl"],
], ids=["ls", "show", "tail", "export"])
def test_json_output_is_valid_utf8_json_with_nothing_raw(argv: list[str], root: Path) -> None:
    out, err = rw(*args_for(argv, root))
    assert_safe(out, argv[0] + " --json")
    assert_safe(err, argv[0] + " --json (stderr)")
    objects = [json.loads(line) for line in out.splitlines()]
    assert objects, "no JSON at all"
    assert H in strings_in(objects), "the hostile value did not come back exactly"
    if argv[0] != "export":
        assert {without_surrogates(PROJECT), without_surrogates(RUN_ID)} <= strings_in(objects)


def test_export_escapes_only_on_a_terminal(root: Path, tmp_path: Path) -> None:
    shown = on_a_terminal("export", run_dir(root))
    assert_safe(shown, "export on a terminal")
    assert safe_text(H) in shown, shown
    rw("export", run_dir(root), "-o", tmp_path / "out.csv")
    data = (tmp_path / "out.csv").read_bytes()  # a file is data: byte-exact, as logged
    assert H.encode() in data and b"\x1b]52" in data
    piped, _ = rw("export", run_dir(root))
    assert H in piped


def test_a_live_tail_follows_a_name_that_is_not_utf8_and_escapes_it(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    root.mkdir()
    events = hostile_events()
    # The first run: named "first", and still running (no Finish).
    first = [msgspec.structs.replace(e, name="first") if type(e) is ev.RunStart else e
             for e in events if type(e) not in (ev.SetName, ev.Finish)]
    argv = [sys.executable, "-m", "tui", "tail", str(root)]
    errs = {mode: tmp_path / f"{mode}.err" for mode in ("text", "json")}
    procs = {}
    for mode, err_path in errs.items():
        with err_path.open("wb") as err_file:
            procs[mode] = subprocess.Popen(argv + (["--json"] if mode == "json" else []), env=env(),
                                           cwd=REPO, stdout=subprocess.PIPE, stderr=err_file,
                                           text=True, encoding="utf-8")
    lines = {mode: Lines(proc) for mode, proc in procs.items()}
    try:
        deadline = time.monotonic() + 30
        while not all("following" in e.read_text() for e in errs.values()):
            assert time.monotonic() < deadline, [e.read_text() for e in errs.values()]
            time.sleep(0.05)
        write_segment(os.path.join(os.fsencode(root), PROJECT_DIR, b"first\xff"), first)
        lines["text"].wait_for(lambda line: "/first" in line and "started" in line, 20)
        lines["json"].wait_for(lambda line: json.loads(line)["id"] == "first\\xff", 20)
        write_segment(run_dir(root), events)  # a second run, after the watcher met the first
        label = short(f"{PROJECT}/{H}", 48)
        lines["text"].wait_for(lambda line: label in line and "started" in line, 20)
        second = without_surrogates(RUN_ID)
        lines["json"].wait_for(lambda line: json.loads(line)["id"] == second, 20)
    finally:
        for proc in procs.values():
            stop(proc)
    for mode in procs:
        err = errs[mode].read_bytes().decode("utf-8")
        assert "Traceback" not in err, err
        assert_safe("".join(lines[mode].lines), f"live tail ({mode})")
        assert_safe(err, f"live tail ({mode}, stderr)")


# -- the escaping functions themselves ----------------------------------------------------------
def unsafe_code_points() -> list[str]:
    """Every character a terminal could act on or that reorders text, surrogates included."""
    import unicodedata

    out = [chr(c) for c in range(0x110000)
           if unicodedata.category(chr(c)) in ("Cc", "Cs") and chr(c) not in "\n\t"]
    return out + list("\u061c\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def test_terminal_text_leaves_no_control_character_raw() -> None:
    chars = unsafe_code_points()
    assert len(chars) > 2000  # C0, DEL, C1 and the 2,048 surrogates
    text = "".join(chars)
    assert not UNSAFE.findall(terminal_text(text))
    assert not UNSAFE.findall(safe_text(text))
    assert terminal_text("a\nb\tc") == "a\nb\tc"  # the renderer's own layout stays
    assert safe_text("p\udcff") == "p\\xff"  # a byte that was not UTF-8, as Python shows bytes
    out = io.StringIO()
    writer = terminal_safe(out)
    assert terminal_safe(writer) is writer
    writer.write(H + "\n")
    assert out.getvalue() == terminal_text(H) + "\n" and not UNSAFE.findall(out.getvalue())


def test_json_is_utf8_and_escapes_what_json_leaves_raw() -> None:
    data = to_json({"p\udcff": ["\x9b\u202e\u2028\x7f\x1b", 1.5, float("nan")]})
    text = data.decode("utf-8")
    assert not UNSAFE.findall(text)
    assert json.loads(text) == {"p\\xff": ["\x9b\u202e\u2028\x7f\x1b", 1.5, "NaN"]}
