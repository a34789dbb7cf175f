"""The live side under load: 8 writers into one root while the app and `runwatch tail` follow
it; the app and the CLI editing one run at once; a 1 kHz soak with all three processes'
memory and CPU sampled (6 s in CI; 30 minutes with --long, or RUNWATCH_SOAK_SECONDS)."""

from __future__ import annotations

import io
import json
import os
from array import array
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import relkit
import test_live_support as live

from logger.edit import edit_notes
from logger.reader import RootReader
from tui.app import RunwatchApp
from tui.follow import Follower
from tui.screens.edit import NotesScreen, TagsScreen
from tui.screens.main import MainScreen
from tui.tail import Tail, TailOptions, follower_for


async def wait_for(pilot: Any, condition: Any, what: str, timeout: float = 20.0) -> None:
    """Let the app run until `condition()` holds; fail naming `what` at the deadline."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"the app never showed {what} within {timeout}s")
        await pilot.pause(0.05)


async def main_screen(pilot: Any) -> MainScreen:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, MainScreen), "its main screen")
    return pilot.app.screen


def steps_by_run(tail: live.TailProc) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for line in tail.of_kind("log"):
        out[line["run"]].append(line["step"])
    return out


# -- 8 writers --------------------------------------------------------------------------------
WRITER = r"""
import sys, time
import logger
root, name, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
print("READY", flush=True)
sys.stdin.readline()  # every writer starts at once
run = logger.init(project="load", name=name, dir=root, config={"writer": name})
for i in range(steps):
    logger.log({"loss": 1.0 / (i + 1), "i": i})
    if i % 10 == 9:
        time.sleep(0.01)  # ~1.5 s of logging: the readers follow it live, not at the end
logger.finish()
print("DONE", run.id, flush=True)
"""


async def test_eight_writers_while_the_app_and_tail_follow(tmp_path: Path) -> None:
    writers_n, steps = 8, relkit.scale(1500, 50_000)
    root = tmp_path / "runs"
    root.mkdir()
    tail = live.TailProc(root, "--json")
    script = relkit.write_script(tmp_path, "writer.py", WRITER)
    writers = [relkit.Child(script, root, f"w{k}", steps) for k in range(writers_n)]
    try:
        tail.wait_err("following")
        for child in writers:
            child.expect("READY")
        async with RunwatchApp(root).run_test(size=(160, 40)) as pilot:
            screen = await main_screen(pilot)
            for child in writers:
                child.send("go")
            views = screen.model.views

            def all_done() -> bool:
                return (len(views) == writers_n
                        and all(v.state == "finished" and v.step == steps - 1 for v in views.values()))

            await wait_for(pilot, all_done, f"{writers_n} runs finished at step {steps - 1}",
                           timeout=relkit.scale(60, 600))
            await pilot.pause(0.2)  # a table update behind the model
            assert {v.name for v in views.values()} == {f"w{k}" for k in range(writers_n)}
            assert all(v.summary["i"] == steps - 1 for v in views.values())
            assert len(screen.model.visible_runs) == writers_n
        results = [child.finish() for child in writers]
        tail.wait(lambda: len(tail.of_kind("state")) >= writers_n, 30, f"{writers_n} state lines")
    finally:
        for child in writers:
            child.close()
        tail.stop()
    for rc, _out, err in results:
        assert rc == 0 and "Traceback" not in err, err
    assert not tail.bad, tail.bad[:3]
    runs = {line["run"] for line in tail.of_kind("start")}
    assert len(runs) == writers_n and len(tail.of_kind("start")) == writers_n
    for run, got in steps_by_run(tail).items():
        assert got == list(range(steps)), f"tail missed or repeated steps of {run}: {Counter(got).most_common(2)}"
    assert set(steps_by_run(tail)) == runs
    ends = Counter((line["run"], line["state"]) for line in tail.of_kind("state"))
    assert ends == Counter({(run, "finished"): 1 for run in runs})
    disk = relkit.read_root(root)
    assert sorted(disk.runs) == sorted(runs)
    for run in disk.runs.values():
        relkit.assert_contiguous(run.history.steps, run.path)


# -- the app and the CLI editing one run at once ----------------------------------------------
FIRST_RUN = r"""
import sys
import logger
run = logger.init(project="p", id="race", name="race", dir=sys.argv[1], tags=["orig"], notes="orig")
for i in range(20):
    logger.log({"loss": 1.0 / (i + 1)})
logger.finish()
"""

CLI_EDITOR = r"""
import random, sys, time
from tui.cli import main
root, run, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
print("READY", flush=True)
sys.stdin.readline()
for i in range(count):
    assert main(["tag", "--root", root, run, f"+cli-{i}"]) == 0
    time.sleep(random.uniform(0, 0.3))  # spread over the app's edits (~0.5 s each)
    assert main(["note", "--root", root, run, f"cli note {i}"]) == 0
    time.sleep(random.uniform(0, 0.3))
print("EDITED", count, flush=True)
"""


def editor_segments(run_dir: Path, pid: int) -> list[Path]:
    return sorted(run_dir.glob(f"*-editor-{pid}-*.rws"))


async def test_an_app_edit_and_a_cli_edit_racing_on_one_run(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    proc = relkit.run_script(relkit.write_script(tmp_path, "first.py", FIRST_RUN), root)
    assert proc.returncode == 0, proc.stderr
    run_dir = root / "p" / "race"
    rounds = relkit.scale(6, 100)
    tail = live.TailProc(root, "--json")
    cli = relkit.Child(relkit.write_script(tmp_path, "cli.py", CLI_EDITOR), root, "p/race", rounds)
    try:
        tail.wait_err("following")
        cli.expect("READY")
        async with RunwatchApp(root).run_test(size=(140, 30)) as pilot:
            screen = await main_screen(pilot)
            views = screen.model.views
            await wait_for(pilot, lambda: "p/race" in views, "the run")
            cli.send("go")
            for i in range(rounds):
                await pilot.press("t")
                await wait_for(pilot, lambda: isinstance(pilot.app.screen, TagsScreen), "the tag editor")
                await pilot.press("end", *f",app-{i}", "enter")
                await wait_for(pilot, lambda i=i: f"app-{i}" in views["p/race"].tags, f"tag app-{i}")
                await pilot.press("n")
                await wait_for(pilot, lambda: isinstance(pilot.app.screen, NotesScreen), "the notes editor")
                await pilot.press("f7", *f"app {i}", "ctrl+s")  # f7: select all, then replace
                await wait_for(pilot, lambda i=i: len(editor_segments(run_dir, os.getpid())) == 2 * (i + 1),
                               f"notes save {i}")
            cli.expect(f"EDITED {rounds}", timeout=60)
            disk = relkit.read_root(root).runs["p/race"]
            final = (disk.tags, disk.notes)
            await wait_for(pilot, lambda: (views["p/race"].tags, views["p/race"].notes) == final,
                           f"the final tags and notes {final}")
        rc, _out, err = cli.finish()
        assert rc == 0, err
        tail.wait(lambda: len(tail.of_kind("tags")) + len(tail.of_kind("notes")) >= 4 * rounds, 20,
                  "every edit")
    finally:
        cli.close()
        tail.stop()
    expected = {"orig"} | {f"app-{i}" for i in range(rounds)} | {f"cli-{i}" for i in range(rounds)}
    assert set(final[0]) == expected, "an edit was lost"
    assert len(list(run_dir.glob("*-editor-*.rws"))) == 4 * rounds, "every edit is its own segment"
    # Every reader agrees on the final state: a fresh reader, another order of reading, the API.
    for order in (sorted, lambda paths: sorted(paths, reverse=True)):
        other = RootReader(root)
        for path in order(run_dir.glob("*.rws")):
            other.read_paths([path])
        assert (other.runs["p/race"].tags, other.runs["p/race"].notes) == final
    # tail printed every edit once; its last tags line shows the final tags.
    tags_lines = tail.of_kind("tags")
    added = Counter(t for line in tags_lines for t in line["add"])
    assert added == Counter(expected - {"orig"}), "tail missed or repeated a tag edit"
    assert tuple(tags_lines[-1]["tags"]) == final[0]
    notes = [line["notes"] for line in tail.of_kind("notes")]
    assert len(notes) == 2 * rounds
    assert set(notes) >= {f"cli note {i}" for i in range(rounds)}
    assert final[1] in notes



def test_tails_last_notes_line_is_the_notes_every_reader_ends_with(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    proc = relkit.run_script(relkit.write_script(tmp_path, "first.py", FIRST_RUN), root)
    assert proc.returncode == 0, proc.stderr
    follower = Follower(root, force_polling=True)
    out = io.StringIO()
    tail = Tail(TailOptions(json=True), out)
    tail.initial(follower.initial())
    run_dir = root / "p" / "race"
    older = edit_notes(run_dir, "race", "older")
    newer = edit_notes(run_dir, "race", "newer")
    # Two editors saving in the same second: which file sorts first is down to pid and random
    # bits. Give the newer edit the name that sorts first.
    if newer.name > older.name:
        spare = run_dir / "swap.tmp"
        older.rename(spare)
        newer.rename(older)
        spare.rename(newer)
    tail.live(follower.refresh())  # one poll reads both, as one watch batch would
    final = relkit.read_root(root).runs["p/race"].notes
    assert final == "newer"
    printed = [json.loads(line) for line in out.getvalue().splitlines()]
    notes = [line["notes"] for line in printed if line["kind"] == "notes"]
    assert sorted(notes) == ["newer", "older"]
    assert notes[-1] == final


# -- soak -------------------------------------------------------------------------------------
SOAK_SECONDS = float(os.environ.get("RUNWATCH_SOAK_SECONDS") or relkit.scale(6.0, 1800.0))
SAMPLE_EVERY = max(0.1, min(5.0, SOAK_SECONDS / 100))
# Readers keep every run's history in memory on purpose (compact columns: ~20 bytes per value
# and 16 per step; this run logs 6 values a step, ~140 bytes). Past that, growth is a leak.
READER_BYTES_PER_STEP = 400
MAX_GROWTH_MB = 50.0

SOAKER = r"""
import sys, time
import logger
root, seconds = sys.argv[1], float(sys.argv[2])
print("READY", flush=True)
sys.stdin.readline()
logger.init(project="soak", id="soak", name="oven-7", dir=root, config={"rate_hz": 1000})
""" + relkit.SOAK_LOOP


def test_soak_at_1khz_with_the_app_and_tail_open(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    live.need_tmux()
    root = tmp_path / "runs"
    root.mkdir()
    steps = array("q")  # what tail printed, kept compact: 30 minutes is 1.8 M lines
    ends: list[str] = []

    def on_line(obj: Any) -> None:  # in tail's reader thread; the test reads after it ends
        if obj.get("kind") == "log":
            steps.append(obj["step"])
        elif obj.get("kind") == "state":
            ends.append(obj["state"])

    app = live.Tmux(live.rw_argv(root), size=(200, 20))
    tail = live.TailProc(root, "--json", keep=False, on_line=on_line)
    writer = relkit.Child(relkit.write_script(tmp_path, "soak.py", SOAKER), root, SOAK_SECONDS)
    sampler = None
    try:
        app.wait(lambda s: "No runs under" in s, "the empty root")
        tail.wait_err("following")
        writer.expect("READY")
        sampler = live.Sampler({"writer": writer.pid, "app": app.pid, "tail": tail.pid},
                               SAMPLE_EVERY).start()
        writer.send("go")
        done = writer.expect("DONE", timeout=SOAK_SECONDS + 120)
        logged, took = int(done.split()[1]), float(done.split()[2])
        sampler.stop()
        # Both readers catch up: tail prints the end, the app shows the last step, finished.
        tail.wait(lambda: bool(ends), 60, "the run's end")
        tail.wait(lambda: len(steps) >= logged, 60, f"{logged} steps")
        screen = app.wait(lambda s: "finished" in live.row_of(s, " oven-7 ")
                          and str(logged - 1) in live.row_of(s, " oven-7 ").split(), f"step {logged - 1}, finished",
                          timeout=60)
        app.keys("q")
        relkit.wait_until(app.dead, 10, "the app to quit")
        rc, _out, err = writer.finish()
    finally:
        if sampler is not None:
            sampler.stop()
        writer.close()
        tail.stop()
        app.close()
    assert rc == 0, err
    assert ends == ["finished"]
    relkit.assert_contiguous(steps, "the steps tail printed")
    assert len(steps) == logged
    assert "✓ finished" in live.row_of(screen, " oven-7 ")
    run = relkit.read_root(root).runs["soak/soak"]
    assert run.state == "finished" and len(run.history) == logged
    figures = {name: sampler.figures(name) for name in ("writer", "app", "tail")}
    rate = logged / took
    for f in figures.values():  # growth per step logged between the early and late samples
        f["bytes_per_step"] = f["growth_mb"] * 1e6 / max(1.0, f["growth_seconds"] * rate)
    report = {"seconds": SOAK_SECONDS, "steps": logged, "rate_hz": rate, **figures}
    (tmp_path / "soak_figures.json").write_text(json.dumps(report, indent=2))
    with capsys.disabled():
        print(f"\nlive soak: {logged} steps in {took:.1f} s ({rate:.0f} Hz); "
              f"figures in {tmp_path / 'soak_figures.json'}")
        for name, f in figures.items():
            print(f"  {name:<6} RSS {f['rss_start_mb']:6.1f} MB at start, {f['rss_early_mb']:6.1f} -> "
                  f"{f['rss_late_mb']:6.1f} MB steady (growth {f['growth_mb']:+6.2f} MB, "
                  f"{f['bytes_per_step']:+6.1f} B/step), peak {f['rss_peak_mb']:6.1f} MB; "
                  f"CPU {f['cpu_s']:6.2f} s = {f['cpu_pct']:5.1f} % of a core ({f['samples']} samples)")
    assert figures["writer"]["growth_mb"] < MAX_GROWTH_MB, figures["writer"]
    allowed = MAX_GROWTH_MB + logged * READER_BYTES_PER_STEP / 1e6
    for name in ("app", "tail"):
        assert figures[name]["growth_mb"] < allowed, (name, figures[name])



FAST_WRITER = r"""
import sys
import logger
run = logger.init(project="soak", id="fast", dir=sys.argv[1])
for i in range(int(sys.argv[2])):
    logger.log({"loss": 1.0 / (i + 1), "acc": i * 1e-6, "lr": 3e-4, "epoch": i // 1000,
                "grad": {"norm": 0.5, "max": 2.0}})
    if i % 100 == 99:
        run._writer.flush()  # a frame per 100 steps, as a 1 kHz run's 100 ms flushes make
logger.finish()
"""


class _Sink(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


def test_tails_memory_stays_flat_while_it_prints_steps(tmp_path: Path) -> None:
    import tracemalloc

    root = tmp_path / "runs"
    steps = 15_000
    proc = relkit.run_script(relkit.write_script(tmp_path, "fast.py", FAST_WRITER), root, steps)
    assert proc.returncode == 0, proc.stderr
    follower = follower_for(root, force_polling=True)
    tail = Tail(TailOptions(json=True), _Sink())
    printed = 0
    tracemalloc.start()
    try:
        tail.initial(follower.initial(limit=64 * 1024))  # the run starts; its first steps
        base = None
        while follower.pending():  # then the rest arrives in chunks, as a live run's does
            tail.live(follower.initial(limit=64 * 1024))
            printed = follower.reader.runs["soak/fast"].step or 0
            if base is None and printed > steps // 10:
                base = (printed, tracemalloc.get_traced_memory()[0])
        end = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert base is not None and printed == steps - 1
    per_step = (end - base[1]) / (printed - base[0])
    # Keeping history costs 120-180 bytes a step; what is left is allocator and cache noise
    # (<10 alone, up to ~13 after the rest of the suite has run in this process).
    assert per_step < 40, f"tail holds {per_step:.0f} bytes per step printed"
