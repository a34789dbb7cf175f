"""A run, as the training script sees it: `log`, `config`, `summary`, `finish`, ...

`log()` is the hot path: on the common call (a dict of numbers, no `step=`) it checks the
keys, takes the step and appends one encoded event under the run's lock (so threads logging
into one run get distinct steps, written in order), nothing more. Everything that can fail
after `init` — disk, encoding, a value too large to store — warns once and carries on; misuse
(a non-dict, a key that is not a str, `log` after `finish`) raises where it happens, with a
message that says what to do.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import msgspec

from . import clock, hooks
from . import events as ev
from . import run_extras as _extras
from .config import Config, Summary
from .metrics import Metrics
from .run_extras import _SCALARS, _check_step
from .values import MAX_VALUE_BYTES, convert
from .writer import SegmentWriter, warn

_Log = ev.Log
_mono = time.monotonic
# Event times are the wall clock at init plus monotonic time since (logger/clock.py): a clock
# that NTP or a user steps back mid-run cannot reorder a run's events or make its runtime negative.
_now = clock.now

_HURRY = 20_000  # queued events past which log() lets the flusher run (memory stays bounded)
_encode = msgspec.msgpack.Encoder().encode
_ENCODE_ERRORS = (TypeError, OverflowError, ValueError, RecursionError)


class RunFinishedError(RuntimeError):
    """A call on a run that has already finished."""


class Run:
    """One run of a training script, writing its own segment in the run directory."""

    sweep_id: str | None = None  # the sweep whose trial this run is (set by init)

    def __init__(self, *, root: Path, project: str, run_id: str, name: str, notes: str | None,
                 tags: Sequence[str], group: str | None, job_type: str | None,
                 config: dict[str, Any], allow_val_change: bool, resumed: bool,
                 start_step: int = 0, last_values: dict[str, Any] | None = None,
                 role: str = "script", meta: dict[str, Any] | None = None,
                 on_finish: Callable[[Run], None] | None = None) -> None:
        clock.reset()
        self._root = Path(os.path.abspath(root))  # fixed now: a later chdir moves nothing
        self._project = project
        self._id = run_id
        self._name = name
        self._notes = notes
        self._tags = tuple(tags)
        self._group = group
        self._job_type = job_type
        self._step = start_step
        self._pending: dict[str, Any] | None = None
        self._finished = False
        self._finishing = False
        self._forked = False  # True in a forked child: the run is the parent's, not written here
        self._warned: set[str] = set()
        self._lock = threading.RLock()  # reentrant: a signal handler may log() mid-log()
        self._str_keys: set[str] = set()
        self._dir = self._root / project / run_id
        self._saves: list[Any] = []  # what save() copies again at finish (logger/files.py)
        self._last: dict[str, Any] = dict(last_values or {})
        self._metrics = Metrics()
        self._plain = True  # no define_metric yet: log() needs no metric bookkeeping
        self._on_finish = on_finish
        self._writer = SegmentWriter(self._dir, run_id, role)
        self._append = self._writer.append
        self._queue = self._writer._frames
        self.config = Config(self._record_config, allow_val_change, initial=config)
        self.summary = Summary(self._last, self._record_summary, self._metrics.view)
        self.summary._media = self._summary_media  # summary["img"] = Image(...) is stored as media
        self._start_event = ev.RunStart(
            project=project, name=name, notes=notes, tags=list(self._tags), group=group,
            job_type=job_type, config=config, resumed=resumed, time=_now(), **(meta or {}))
        self._writer.reopen_events = self._reopen_events
        self._seeded = frozenset(self._last)  # a resume's last values: not logged here
        self._resumed_last = last_values or {}  # as read: a fresh incremental table continues from it
        self._hand: set[str] = set()  # keys set or removed by hand (run.summary)
        self._inexact = False  # something a snapshot cannot say exactly (logger/snapshot.py)
        self._writer.snapshot_lock, self._writer.snapshot_stats = self._lock, self._snapshot_stats
        self._emit(self._start_event)  # written by init once the run can be finished

    # -- W&B's read-only properties ---------------------------------------------------------
    id = property(lambda self: self._id)
    project = property(lambda self: self._project)
    group = property(lambda self: self._group)
    job_type = property(lambda self: self._job_type)
    step = property(lambda self: self._step)
    # W&B's "entity/project/run_id" (the entity is the local user: run_extras.entity), so
    # logger.Api().run(run.path) and "/".join(api_run.path) name the same run.
    path = property(lambda self: f"{self.entity}/{self._project}/{self._id}")
    run_dir = property(lambda self: self._dir)

    @property
    def dir(self) -> str:
        """The run's files/ directory: what a script writes here is listed with the run."""
        files = self._dir / "files"
        files.mkdir(parents=True, exist_ok=True)
        return str(files)
    resumed = property(lambda self: self._start_event.resumed)
    start_time = property(lambda self: self._start_event.time)
    offline = True

    # Each set emits its event (logger/run_extras.py).
    name = property(lambda self: self._name, _extras.set_name)
    notes = property(lambda self: self._notes, _extras.set_notes)
    tags = property(lambda self: self._tags, _extras.set_tags)

    @property
    def finished(self) -> bool:
        return self._finished

    # -- logging ----------------------------------------------------------------------------
    def log(self, data: dict[str, Any], step: int | None = None, commit: bool | None = None) -> None:
        """Record a dict of values as a step (W&B's step semantics: see DESIGN.md section 4)."""
        if self._finished:
            self._refuse_finished("log")
            return
        if type(data) is not dict:
            if not isinstance(data, Mapping):
                raise TypeError(
                    f"log() takes a dict of values, like log({{'loss': 0.1}}), not {type(data).__name__}"
                )
            data = dict(data)
        if not self._str_keys.issuperset(data):  # keys seen before are known to be str
            self._check_keys(data)
        if step is None and commit is None and self._pending is None and (
                self._plain or dict not in map(type, data.values())):
            # The common call: one committed row, encoded and buffered at once. Nested dicts
            # take it too until a define_metric needs them flattened (~0.35 us a call saved):
            # their non-str keys read back as str (logger/flat.py), and what msgspec cannot
            # encode (media, NumPy, lone surrogates) falls to the converting path below.
            with self._lock:  # the step and the order of rows are one atomic step
                if not self._plain:
                    data = self._metrics.observed(data, nested=False)
                self._last.update(data)
                row_step = self._step
                self._step = row_step + 1
                try:
                    payload = _encode(_Log(row_step, clock._base + _mono(), data))
                except _ENCODE_ERRORS:
                    payload = self._encode_converted(row_step, data)
                if len(payload) > MAX_VALUE_BYTES:
                    payload = self._encode_converted(row_step, data)
                self._append(payload)
            if len(self._queue) > _HURRY:
                self._writer.hurry()
            return
        self._log_slow(data, step, commit)

    def _check_keys(self, data: dict[Any, Any]) -> None:
        """W&B's rule: top-level keys are str (TypeError naming the key, before anything is
        logged). Keys that pass are remembered, so a loop's next call checks them in C."""
        for key in data:
            if not isinstance(key, str):
                raise TypeError(
                    f"log() keys must be strings, as in W&B: got {key!r} ({type(key).__name__}); "
                    f"use str(key), like log({{{str(key)!r}: ...}})"
                )
        if len(self._str_keys) > 4096:  # bounded: a script logging ever-new key names
            self._str_keys.clear()
            self._inexact = True
        self._str_keys.update(data)

    def _log_slow(self, data: dict[str, Any], step: int | None, commit: bool | None) -> None:
        with self._lock:
            if step is not None:
                step = _check_step(step)
                if step != self._step:
                    self._commit_pending()
                    if step < self._step:
                        self._inexact = True  # rows rewritten: a reader counts them itself
                        self._warn_once(
                            "backwards",
                            f"runwatch: step {step} is before the current step {self._step}; "
                            "it is stored (W&B would drop it) and later rows continue from there",
                        )
                    self._step = step
                if commit is None:
                    commit = False  # step=N alone leaves step N open, as in W&B
            if not all(isinstance(v, _SCALARS) for v in data.values()):
                data = self._media_now(data)
            pending = self._pending
            if pending is None:
                self._pending = dict(data)
            else:
                pending.update(data)
            self._last.update(data)
            if commit is not False:
                self._commit_pending()
                self._step += 1

    def _commit_pending(self) -> None:
        data = self._pending
        if data is None:
            return
        self._pending = None
        nested = dict in map(type, data.values())
        if not self._plain:
            data = self._metrics.observed(data, nested)  # W&B's step_sync and aggregates
            self._last.update(data)
        payload = b""
        if not nested:
            try:
                payload = _encode(_Log(self._step, _now(), data))
            except _ENCODE_ERRORS:
                payload = b""
        if not payload or len(payload) > MAX_VALUE_BYTES:
            payload = self._encode_converted(self._step, data)
        self._append(payload)

    # Media in rows and the summary, define_metric, files, artifacts, alerts: logger/run_extras.py
    _encode_converted = _extras._encode_converted
    _media_now = _extras._media_now
    _summary_media = _extras._summary_media
    define_metric = _extras.define_metric
    save = _extras.save
    log_artifact = _extras.log_artifact
    alert = _extras.alert

    # -- finishing --------------------------------------------------------------------------
    def finish(self, exit_code: int | None = None, quiet: bool | None = None,
               state: str | None = None, error: str | None = None) -> None:
        """Flush, record how the run ended, and close the segment. Safe to call twice, from a
        signal handler or another thread: a signal that arrives meanwhile waits until it is
        done (logger/hooks.py), so no buffered step and never the finish itself is lost."""
        with hooks.critical():
            with self._lock:
                if self._finished:
                    self._writer.close()  # a handler that interrupted close(): let it end
                    return
                if self._finishing:
                    return
                self._finishing = True
                try:
                    self._write_finish(exit_code, state, error)
                finally:
                    self._finishing = False
            if self._on_finish is not None:
                self._on_finish(self)

    def _write_finish(self, exit_code: int | None, state: str | None, error: str | None) -> None:
        self._commit_pending()
        from .capture import stop_capture  # its console and system events go before Finish

        stop_capture(self)
        if self._saves:
            from .files import save_pending

            save_pending(self, self._saves)
            self._saves.clear()
        spool = getattr(self, "_media_spool", None)  # made by the first media value
        if spool is not None:
            spool.close()  # every media file lands before the finish (logger/media/spool.py)
        # The framer's next drain frames what is queued, then this snapshot: nearly always the
        # Finish below is queued by then, so the segment ends with a snapshot that repeats it
        # (a finished run lists from its last frame); a drain in between leaves the Finish just
        # after the snapshot, read as the events after it are. Either order lists the same.
        self._writer.snapshot(self._snapshot_stats())
        code = 0 if exit_code is None else int(exit_code)
        if state is None:
            state = "finished" if code == 0 else "failed"
        self._emit(ev.Finish(time=_now(), exit_code=code, state=state, error=error))
        self._finished = True
        self._writer.close()

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.finish()
        else:
            state, code, text = hooks.describe_exception(exc_type, exc, tb)
            self.finish(exit_code=code, state=state, error=text)

    # -- internals --------------------------------------------------------------------------
    def _emit(self, event: ev.Event) -> None:
        try:
            self._append(_encode(event))
            return
        except _ENCODE_ERRORS:
            pass
        try:  # a surrogate in argv, the cwd or a label: keep the event, with its text escaped
            fields = {f: convert(getattr(event, f)) for f in event.__struct_fields__}
            self._append(_encode(msgspec.structs.replace(event, **fields)))
        except _ENCODE_ERRORS as exc:
            self._warn_once(f"emit:{type(event).__name__}",
                            f"runwatch: could not record {type(event).__name__}: {exc}")

    def _record_config(self, values: dict[str, Any]) -> None:
        if self._check_open("config"):
            self._emit(ev.ConfigUpdate(values=values, time=_now()))

    def _record_summary(self, values: dict[str, Any], removed: list[str]) -> None:
        self._hand.update(values, removed)
        if self._check_open("summary"):
            self._emit(ev.SummaryUpdate(values=values, removed=removed, time=_now()))

    _snapshot_stats = _extras._snapshot_stats  # (logger/run_extras.py)

    def _reopen_events(self) -> list[ev.Event]:
        """What a new segment repeats when this one was deleted under us."""
        start = self._start_event
        return [msgspec.structs.replace(start, config=self.config.as_dict(), name=self._name,
                                        notes=self._notes, tags=list(self._tags), resumed=True,
                                        time=_now())]

    def _check_open(self, what: str) -> bool:
        """True when the run can take `what`; raises once it has finished."""
        if self._finished:
            self._refuse_finished(what)
            return False
        return True

    def _refuse_finished(self, what: str) -> None:
        if self._forked:
            self._warn_once("forked", (
                f"runwatch: this process was forked from the one that started run {self.path}; "
                f"its {what}() calls (and any later ones) are ignored, so the parent's file is "
                "never written from here. Call logger.init() in the child to log from it"))
            return
        raise RunFinishedError(
            f"run {self.path} has finished; call logger.init() to start a new run before {what}()"
        )

    def _after_fork_in_child(self) -> None:
        """In a forked child (a DataLoader worker): never write the parent's segment."""
        self._writer.abandon_in_child()
        self._append = _discard
        self._lock = threading.RLock()  # the parent's may have been held by another thread
        self._forked = self._finished = True

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warn(message)

    def __repr__(self) -> str:
        return f"<Run {self.path} name={self._name!r}{' finished' if self._finished else ''}>"

    # -- W&B's corners and artifacts in use: local answers (logger/run_extras.py) -------------
    entity = property(_extras.entity)
    url = property(_extras.url)
    get_url = _extras.get_url
    get_project_url = _extras.get_project_url
    get_sweep_url = _extras.get_sweep_url
    join = _extras.join
    _label = _extras._label
    watch = _extras.watch
    unwatch = _extras.unwatch
    use_artifact = _extras.use_artifact
    link_artifact = _extras.link_artifact
    log_model = _extras.log_model
    use_model = _extras.use_model


def _discard(frame: bytes) -> None:
    return None
