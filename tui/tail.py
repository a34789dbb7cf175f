"""`runwatch tail`: a root's events as lines, for pipes, CI logs, `nohup` and other programs.

Human lines (default), one event per line, every string from a file escaped (no raw control
characters or escape sequences ever reach the terminal):

    12:03:04  cat-classification/brisk-otter-7  started  lr=0.001 batch_size=64
    12:03:05  cat-classification/brisk-otter-7  step 1200  loss 0.2310  accuracy 0.9120
    12:09:41  cat-classification/brisk-otter-7  failed  exit 1  ValueError: loss is nan

`--json` prints one JSON object per line instead. Every object has

    kind     "start" | "log" | "state" | "tags" | "notes" | "name" | "artifact" | "file"
             | "config" | "summary" | "alert" | "latest" | "system" | "console"
    run      "project/id" (stable: names can change, ids cannot)
    project, id, name      the run's project, id and current display name
    time     ISO 8601 in UTC with milliseconds, "2026-11-27T12:03:04.512+00:00"
    ts       the same instant in seconds since the epoch (float)

and, by kind:

    start     config (nested), tags, notes, group, job_type, resumed, host, pid, command
    log       step (int), values {"loss": 0.23, "val/acc": 0.91, ...} with nested dicts
              flattened to "a.b" keys as W&B's history does
    state     state ("running" | "finished" | "failed" | "killed" | "crashed"), exit_code
              (int or null), error (the full error text or null), runtime (seconds)
    tags      tags (the run's tags now), add, remove (what this edit changed)
    notes     notes
    name      name (the new name)
    artifact  artifact, type, version (int), digest, size (bytes), aliases
    file      path (under the run's files/), policy, size
    config    values (nested keys set or changed)
    summary   values, removed
    alert     title, text, level ("INFO" | "WARN" | "ERROR"), wait_duration (seconds),
              suppressed (true when the same title came within wait_duration: not notified)
    latest    state, exit_code, error, step, runtime, created (ISO), values (last value of
              every key): one per run after `--no-follow`'s events and at the start of a
              live tail
    system    values {"system.cpu": 12.5, "system.gpu.0.gpu": 97, ...}: one system sample
              under W&B's key names (only with --system)
    console   stream ("stdout" | "stderr" | "output" | "note"), text: one console line as the
              terminal showed it, progress bars at their last redraw, colours dropped and
              every other escape sequence written out as text, "\\x1b]52;..." (only with --logs)

Values are JSON as logged; NaN and infinities are the strings "NaN", "Infinity", "-Infinity"
(W&B's spelling: strict JSON, and what float() and JavaScript's Number() read back). JSON
escapes control characters itself (ESC is "\\u001b"); DEL, C1 controls and bidi overrides
are escaped too. `runwatch ls --json` prints one object per run: run, entity (the one init
was given, else null), project, id, name, state, exit_code, error, step, runtime, created,
updated, tags, notes, group, job_type, config (nested), summary (flat keys), path (the run
directory).

Which runs `--until-done` waits for: those running when tail starts, those that start while it
runs, those named with `--run`, and with `--since` those active since then; runs that ended
before it started only when named or within --since (old failed runs in a shared root must
not end the wait at once). It waits for at least one run; it exits 0 when all have ended, 1
when any failed, crashed or was killed.
With `--fail-on-alert LEVEL` it also exits 1 as soon as a run it waits for has an alert at
LEVEL or above (INFO < WARN < ERROR), including one the run raised before tail started.

Following (`run_tail`) is tui/tail_follow.py; how each event kind reads, tui/tail_lines.py; how
lines are made and written, tui/tail_out.py (Log lines in bulk: tui/tail_bulk.py).
"""

from __future__ import annotations

import bisect
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from logger import events as ev
from logger.history_read import FlatLog
from logger.media.readback import format_alert
from logger.reader import Update
from logger.rundata import RunData
from logger.streams import OutputRenderer
from logger.textsafe import safe_text
from logger.values import flatten_into

from .cli.common import ENDED_BADLY, EXIT_OK, EXIT_RUN_FAILED
from .follow import Follower
from .tail_lines import (
    RENDER,
    alert_rank,
    console_line,
    edits_in_time_order,
    run_matches,
    state_line,
    system_line,
    time_of,
)
from .tail_out import TailLines


@dataclass
class TailOptions:
    projects: tuple[str, ...] = ()
    runs: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()  # names or globs; empty: every key not starting with "_"
    json: bool = False
    follow: bool = True
    until_done: bool = False
    every: float | None = None
    since: float | None = None
    fail_on_alert: str | None = None  # with until_done: an alert at this level or above ends it (1)
    system: bool = False  # print system samples ("system" lines)
    logs: bool = False  # print console lines ("console" lines)


class Tail(TailLines):
    """Turns reader updates into lines. Not thread-safe: callers hold `lock`."""

    def __init__(self, options: TailOptions, out: TextIO) -> None:
        super().__init__(options, out)
        self.lock = threading.Lock()
        self._selected: dict[str, tuple[str, bool]] = {}
        self.state: dict[str, str] = {}  # path -> last state shown
        self.followed: set[str] = set()
        self.matched_refs: set[str] = set()
        self._pending: dict[str, tuple[RunData, int, float, dict[str, Any]]] = {}
        self._last_emit: dict[str, float] = {}
        self.alerted: str | None = None  # with fail_on_alert: what the first such alert said
        self._renderers: dict[str, OutputRenderer] = {}  # --logs: path -> its open lines

    # -- selection ------------------------------------------------------------------------
    def selected(self, run: RunData) -> bool:
        name = run.name
        hit = self._selected.get(run.path)
        if hit is not None and hit[0] == name:
            return hit[1]
        o = self.o
        ok = (not o.projects or run.project in o.projects) and (
            not o.runs or any(run_matches(run, ref) for ref in o.runs)
        )
        self._selected[run.path] = (name, ok)
        return ok

    def _follow_run(self, run: RunData) -> None:
        self.followed.add(run.path)
        self.matched_refs.update(ref for ref in self.o.runs if run_matches(run, ref))

    # -- the start, and live updates ------------------------------------------------------
    def initial(self, updates: list[Update]) -> None:
        """What was on disk: replayed with `--no-follow` or `--since`, else a line per live run."""
        o = self.o
        runs = sorted((u for u in updates if self.selected(u.run)), key=lambda u: u.run.created_at)
        replay = not o.follow or o.since is not None
        for u in runs:
            self._label_of(u.run)  # every label known now: the columns line up from the start
        for u in runs:
            run = u.run
            self.state[run.path] = run.state
            recent = o.since is not None and run.updated_at >= o.since
            named = any(run_matches(run, ref) for ref in o.runs)
            if run.state == "running" or named or recent:
                self._follow_run(run)
            if replay and (o.since is None or recent):
                self._replay(run, u.events)
        for u in runs:  # alerts a waited-for run raised before tail started count too
            if u.run.path in self.followed:
                for e in u.events:
                    if type(e) is ev.Alert and (o.since is None or e.time >= o.since):
                        self._check_alert(u.run, e)
        if not o.follow:
            for u in runs:
                if o.since is None or u.run.updated_at >= o.since:
                    self._latest(u.run)
        elif o.since is None:
            for u in runs:
                if u.run.path in self.followed:
                    self._latest(u.run)
        self.emit()

    def _replay(self, run: RunData, events: list[Any]) -> None:
        """A run's events merged across its segments by time, its end in its place."""
        events = sorted(events, key=time_of)
        ended = run.state != "running"
        cut = bisect.bisect_right(events, run.finished_at or 0.0, key=time_of) if ended else len(events)
        since = self.o.since
        self._events(run, events[:cut], since)
        self._flush_run(run.path)
        if ended and (since is None or (run.finished_at or 0.0) >= since):
            self._state_line(run)
        self._events(run, events[cut:], since)  # edits after the end (tags, notes)
        self._flush_run(run.path)

    def live(self, updates: list[Update]) -> None:
        """A batch from the follower: events, then any state change, per run."""
        for u in updates:
            run = u.run
            if not self.selected(run):
                continue
            path = run.path
            if path not in self.state:
                self.state[path] = "running"
                self._follow_run(run)
            elif run.state == "running" and path not in self.followed:
                self._follow_run(run)  # an ended run resumed
            if u.events:
                # Live events print whatever their time says (--since picks what to replay, and
                # a writer's clock may step back); edits in one batch in time order, as every
                # reader orders them, so the last notes line is the notes the run has.
                self._events(run, edits_in_time_order(u.events))
            if run.state != self.state[path]:
                self._flush_run(path)
                self.state[path] = run.state
                self._state_line(run)
        self.emit()

    def flush_due(self) -> None:
        """With `--every`: print the rows that have waited out their interval."""
        every = self.o.every
        if every is None or not self._pending:
            return
        now = time.time()
        for path in [p for p in self._pending if now - self._last_emit.get(p, 0.0) >= every]:
            self._flush_run(path, now)
        self.emit()

    def next_wait(self) -> float:
        if self.o.every is None or not self._pending:
            return 0.5
        now = time.time()
        due = min(self._last_emit.get(p, 0.0) + self.o.every for p in self._pending)
        return min(0.5, max(0.01, due - now))

    def done(self) -> bool:
        """`--until-done`: every followed run has ended (and every `--run` was seen), or one of
        them raised an alert at `--fail-on-alert`'s level."""
        if self.alerted is not None:
            return True
        if not self.followed or any(self.state.get(p) == "running" for p in self.followed):
            return False
        return all(ref in self.matched_refs for ref in self.o.runs)

    def exit_code(self) -> int:
        bad = self.alerted is not None or any(self.state.get(p) in ENDED_BADLY for p in self.followed)
        return EXIT_RUN_FAILED if bad else EXIT_OK

    # -- events ---------------------------------------------------------------------------
    def _events(self, run: RunData, events: list[Any], since: float | None = None) -> None:
        """Events as lines: each run of consecutive Log events formatted in bulk (found by
        C-level passes), every other event one at a time."""
        if self.o.every is not None:
            for event in events:
                self._event(run, event, since)
            return
        kinds = list(map(type, events))
        if kinds.count(FlatLog) + kinds.count(ev.Log) == len(kinds):
            self._log_block(run, events, since)
            return
        done = 0
        for i in [i for i, kind in enumerate(kinds) if kind is not FlatLog and kind is not ev.Log]:
            if i > done:
                self._log_block(run, events[done:i], since)
            self._event(run, events[i], since)
            done = i + 1
        if done < len(events):
            self._log_block(run, events[done:], since)

    def _event(self, run: RunData, event: Any, since: float | None) -> None:
        kind = type(event)
        t = getattr(event, "time", 0.0)
        if since is not None and t < since:
            return
        if kind is ev.Log or kind is FlatLog:  # with --every: rows wait out their interval
            flat: dict[str, Any] = {}
            flatten_into(flat, event.values, "", {})
            self._throttle(run, event.step, t, flat)
        elif kind is ev.RunStart:
            self._start_line(run, event)
        elif kind is ev.SystemStats:
            if self.o.system:
                self._line(run, t, *system_line(run, event))
        elif kind is ev.ConsoleChunk:
            if self.o.logs:
                self._console(run, self._renderers.setdefault(run.path, OutputRenderer()).feed(event))
        else:
            render = RENDER.get(kind)
            if render is not None:
                if self.o.every is not None:
                    self._flush_run(run.path)  # the rows before it come before it
                self._line(run, t, *render(run, event))
                if kind is ev.Alert:
                    self._check_alert(run, event)

    def _console(self, run: RunData, lines: list[tuple[float, str, str]]) -> None:
        for t, stream, text in lines:
            self._line(run, t, *console_line(stream, text))

    def _console_end(self, run: RunData) -> None:
        """The run ended: its open console line (a progress bar at its last redraw) prints."""
        renderer = self._renderers.pop(run.path, None)
        if renderer is not None:
            self._console(run, renderer.unfinished())

    def _check_alert(self, run: RunData, e: ev.Alert) -> None:
        level = self.o.fail_on_alert
        if level is None or self.alerted is not None or run.path not in self.followed:
            return
        if alert_rank(e.level) >= alert_rank(level):
            self.alerted = f"{run.project}/{run.name}: {format_alert(e)}"
            print(f"runwatch: {safe_text(self.alerted)} (--fail-on-alert {level}): exiting 1",
                  file=sys.stderr, flush=True)

    def _throttle(self, run: RunData, step: int, t: float, flat: dict[str, Any]) -> None:
        path = run.path
        pending = self._pending.get(path)
        if pending is None:
            self._pending[path] = (run, step, t, flat)
        else:
            pending[3].update(flat)
            self._pending[path] = (run, max(step, pending[1]), t, pending[3])
        if t - self._last_emit.get(path, 0.0) >= (self.o.every or 0.0):
            self._flush_run(path, t)

    def _flush_run(self, path: str, now: float | None = None) -> None:
        pending = self._pending.pop(path, None)
        if pending is not None:
            run, step, t, values = pending
            self._last_emit[path] = t if now is None else max(now, t)
            self._log_line(run, step, t, values)

    # -- lines (the rest: TailLines) ------------------------------------------------------
    def _state_line(self, run: RunData) -> None:
        self._console_end(run)
        self._line(run, run.finished_at or time.time(), *state_line(run))



# -- running it ------------------------------------------------------------------------------
def follower_for(root: Path, force_polling: bool | None = None) -> Follower:
    """tail's view of a root: it prints each step once and never charts, so it keeps only each
    metric's last value and its memory stays flat however long runs log."""
    return Follower(root, force_polling, keep_history=False)
