"""A run, as the training script sees it: `log`, `config`, `summary`, `finish`, ...

`log()` is the hot path: on the common call (a dict of numbers, no `step=`) it checks the
keys, takes the step and appends one encoded event under the run's lock (so threads logging
into one run get distinct steps, written in order), nothing more. Everything that can fail
after `init` — disk, encoding, a value too large to store — warns once and carries on; misuse
(a non-dict, a key that is not a str, `log` after `finish`) raises where it happens, with a
message that says what to do.
"""

from __future__ import annotations

import operator
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
from .config import Config, Summary
from .metrics import Metrics, check_define_metric
from .rows import encode_row
from .snapshot import KeyStat
from .values import MAX_VALUE_BYTES, check_tags, convert
from .writer import SegmentWriter, warn

_Log = ev.Log
_mono = time.monotonic
# Event times are the wall clock at init plus monotonic time since (logger/clock.py): a clock
# that NTP or a user steps back mid-run cannot reorder a run's events or make its runtime negative.
_now = clock.now

_HURRY = 20_000  # queued events past which log() lets the flusher run (memory stays bounded)
_encode = msgspec.msgpack.Encoder().encode
_ENCODE_ERRORS = (TypeError, OverflowError, ValueError, RecursionError)
_SCALARS = (str, int, float, bool, type(None))  # values that are never media


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
    path = property(lambda self: f"{self._project}/{self._id}")
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

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        from .paths import check_name

        self._name = check_name("name", value)
        self._emit(ev.SetName(name=self._name, time=_now()))

    @property
    def notes(self) -> str | None:
        return self._notes

    @notes.setter
    def notes(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"notes must be a str, not {type(value).__name__}")
        self._notes = value
        self._emit(ev.SetNotes(notes=value, time=_now()))

    @property
    def tags(self) -> tuple[str, ...]:
        return self._tags

    @tags.setter
    def tags(self, value: Sequence[str]) -> None:
        self._tags = check_tags(value)
        self._emit(ev.SetTags(tags=list(self._tags), add=[], remove=[], time=_now()))

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

    def _encode_converted(self, step: int, data: dict[str, Any]) -> bytes:
        """The slow path (logger/rows.py); the summary then holds each key as it was stored.
        Media (Image, Table, figures...) first become files and the references W&B stores."""
        from .media import convert_row

        logged = data
        data = convert_row(self, step, data)
        payload, stored = encode_row(step, _now(), data, self._warn_once)
        if not self._plain:
            self._inexact = True  # aggregates saw the values before they were converted
        for key in logged.keys() | data.keys():  # a plot.* chart is stored under other keys
            if key not in stored:
                self._inexact = True
                self._last.pop(key, None)  # refused, or renamed (its text escaped)
        self._last.update(stored)
        return payload

    def _media_now(self, data: dict[str, Any]) -> dict[str, Any]:
        """Media in a row left open (`step=`, `commit=False`) stored at the call, as W&B does:
        a table the script goes on filling is stored as it was when logged."""
        from .media import convert_row

        return convert_row(self, self._step, data)

    def _summary_media(self, data: Mapping[str, Any]) -> Mapping[str, Any]:
        """Media set in the summary stored as W&B does (`<key>_summary_<sha>` files and refs)."""
        if self._finished or all(isinstance(v, _SCALARS) for v in data.values()):
            return data  # (a finished run refuses the update itself)
        from .media import convert_row

        return convert_row(self, "summary", dict(data))

    def define_metric(self, name: str, step_metric: str | None = None, step_sync: bool | None = None,
                      hidden: bool | None = None, summary: str | None = None, goal: str | None = None,
                      overwrite: bool | None = None, **_ignored: Any) -> None:
        """How a metric is summarised (`summary="min"`...) and charted (`step_metric`), merged
        with earlier calls on the same name as W&B merges them (see logger/metrics.py)."""
        check_define_metric(name, step_metric, summary, goal)
        if self._finished:
            self._refuse_finished("define_metric")
            return
        with self._lock:
            if overwrite:
                (self._metrics.globs if name.endswith("*") else self._metrics.specs).pop(
                    name.rstrip("*") if name.endswith("*") else name, None)
            if self._str_keys and (name in self._str_keys or "*" in name):
                self._inexact = True  # an aggregate begun after the key was logged
            spec = self._metrics.define(name, step_metric, step_sync, summary, bool(hidden), goal)
            self._plain = False
            self._emit(ev.DefineMetric(name=name, step_metric=spec.step_metric,
                                       summary=spec.summary_text(), hidden=spec.hidden, time=_now()))

    def save(self, glob_str: str | os.PathLike[str] | None = None,
             base_path: str | os.PathLike[str] | None = None, policy: str = "live") -> Any:
        """Copy files matching a glob into the run's files/ directory (see logger/files.py)."""
        from .files import save_files

        if not self._check_open("save"):
            return []
        if glob_str is None:  # W&B's old "persist the run": edits already are (logger/compat.py)
            from .compat import save_without_arguments

            return save_without_arguments(self)
        names, again = save_files(self, glob_str, base_path, policy)
        if again is not None:
            self._saves.append(again)
        return names

    def log_artifact(self, artifact_or_path: Any, name: str | None = None, type: str | None = None,
                     aliases: Sequence[str] | None = None) -> Any:
        """Store a file, directory, Artifact or Python object as a versioned artifact."""
        from .artifacts import log_artifact

        if not self._check_open("log_artifact"):
            return None
        return log_artifact(self, artifact_or_path, name=name, type=type, aliases=aliases)

    def alert(self, title: str, text: str = "", level: Any = None, wait_duration: Any = None) -> None:
        """W&B's run.alert(): an Alert event, rate-limited per title (see logger/media/alerts.py)."""
        from .media.alerts import send_alert

        send_alert(self, title, text, level, wait_duration)

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
        self._writer.snapshot(self._snapshot_stats())  # a finished run lists from its last frames
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

    def _snapshot_stats(self) -> dict[str, Any] | None:
        """Per-key stats of what was logged so far (called by the framer under the lock),
        or None where they would not be exact: a reader then decodes the rows itself."""
        if self._inexact or self._pending is not None or self._hand & self._str_keys:
            return None
        aggs = self._metrics._aggs
        out: dict[str, Any] = {}
        for key, value in self._last.items():
            if key in self._hand or (key in self._seeded and key not in self._str_keys):
                continue
            if type(value) is dict and value and "_type" not in value:
                return None  # nested: its "a.b" keys are the reader's to flatten
            numeric = isinstance(value, (int, float)) and type(value) is not bool
            agg = aggs.get(key)
            if agg is None:
                out[key] = KeyStat(last=value, numeric=numeric, agg=False)
            else:
                out[key] = KeyStat(last=value, first=agg.first, count=agg.count, min=agg.min,
                                   max=agg.max, total=agg.total, numeric=numeric)
        return out

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

    # -- W&B's corners and artifacts in use: local answers (logger/compat.py) ----------------
    @property
    def entity(self) -> str:
        """No accounts: the local user's name, so `f"{run.entity}/{run.project}"` still works."""
        from .compat import local_entity

        return local_entity()

    @property
    def url(self) -> str:
        """No server: a file:// URL of the run's directory (what `runwatch show` reads)."""
        return self._dir.resolve().as_uri()

    def get_url(self) -> str:
        return self.url

    def get_project_url(self) -> str:
        return self._dir.parent.resolve().as_uri()

    def get_sweep_url(self) -> str | None:
        return None

    def join(self, exit_code: int | None = None, quiet: bool | None = None) -> None:
        """The old name of finish()."""
        self.finish(exit_code)

    def _label(self, *args: Any, **kwargs: Any) -> None:
        """W&B tags its telemetry with the integration that started the run: nothing to tag."""
        return None

    def watch(self, models: Any = None, criterion: Any = None, log: str | None = "gradients",
              log_freq: int = 1000, idx: int | None = None, log_graph: bool = False) -> None:
        """W&B's gradient hooks: runwatch records what is logged, so this is a no-op."""
        return None

    def unwatch(self, models: Any = None) -> None:
        return None

    def use_artifact(self, artifact_or_name: Any, type: str | None = None,
                     aliases: Sequence[str] | None = None, use_as: str | None = None) -> Any:
        """Resolve an artifact ("name:alias", "project/name:alias" or an Artifact) locally
        and record that this run used it (`Api().run(...).used_artifacts()`)."""
        from .artifact_use import use_artifact

        self._check_open("use_artifact")
        return use_artifact(self, artifact_or_name, type=type, aliases=aliases)

    def link_artifact(self, artifact: Any, target_path: str, aliases: Sequence[str] | None = None) -> Any:
        from .artifact_use import link_artifact

        self._check_open("link_artifact")
        return link_artifact(self, artifact, target_path, aliases=aliases)

    def log_model(self, path: str | os.PathLike[str], name: str | None = None,
                  aliases: Sequence[str] | None = None) -> Any:
        from .artifact_use import log_model

        self._check_open("log_model")
        return log_model(self, path, name=name, aliases=aliases)

    def use_model(self, name: str) -> str:
        from .artifact_use import use_model

        self._check_open("use_model")
        return use_model(self, name)


def _check_step(step: Any) -> int:
    """An int step (NumPy and PyTorch integers too, through __index__) that a reader can hold."""
    if isinstance(step, bool):
        raise TypeError("step must be an int, not bool")
    try:
        value = operator.index(step)
    except TypeError:
        raise TypeError(f"step must be an int, not {type(step).__name__}") from None
    if not -(2**63) <= value < 2**63:
        raise ValueError(f"step {value} is outside the 64-bit range runwatch stores")
    return value


def _discard(frame: bytes) -> None:
    return None
