"""A run, as the training script sees it: `log`, `config`, `summary`, `finish`, ...

`log()` is the hot path: on the common call (a dict of numbers, no `step=`) it encodes one
frame and appends it to the writer's buffer, nothing more. Everything that can fail after
`init` — disk, encoding — warns once and carries on; misuse (a non-dict, `log` after
`finish`) raises where it happens, with a message that says what to do.
"""

from __future__ import annotations

import operator
import os
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import msgspec

from . import events as ev
from .config import Config, Summary
from .values import convert
from .writer import SegmentWriter, warn

_Log = ev.Log
_mono = time.monotonic
# Event times are the wall clock at init plus monotonic time since: a clock that NTP or a
# user steps back mid-run cannot reorder a run's events or make its runtime negative.
_base = time.time() - _mono()


def _now() -> float:
    return _base + _mono()

_HURRY = 20_000  # queued events past which log() lets the flusher run (memory stays bounded)
_encode = msgspec.msgpack.Encoder().encode


class RunFinishedError(RuntimeError):
    """A call on a run that has already finished."""


class Run:
    """One run of a training script, writing its own segment in the run directory."""

    sweep_id: str | None = None  # the sweep whose trial this run is (set by init)

    def __init__(self, *, root: Path, project: str, run_id: str, name: str, notes: str | None,
                 tags: Sequence[str], group: str | None, job_type: str | None,
                 config: dict[str, Any], allow_val_change: bool, resumed: bool,
                 start_step: int = 0, last_values: dict[str, Any] | None = None,
                 role: str = "script", meta: dict[str, Any] | None = None) -> None:
        global _base
        _base = time.time() - _mono()
        self._root = root
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
        self._warned: set[str] = set()
        self._lock = threading.RLock()
        self._dir = root / project / run_id
        self._saves: list[tuple[str, str | None, str]] = []
        self._last: dict[str, Any] = dict(last_values or {})
        self._writer = SegmentWriter(self._dir, run_id, role)
        self._append = self._writer.append
        self._queue = self._writer._frames
        self.config = Config(self._record_config, allow_val_change)
        object.__setattr__(self.config, "_items", dict(config))
        self.summary = Summary(self._last, self._record_summary)
        self._start_event = ev.RunStart(
            project=project, name=name, notes=notes, tags=list(self._tags), group=group,
            job_type=job_type, config=config, resumed=resumed, time=_now(), **(meta or {}))
        self._writer.reopen_events = self._reopen_events
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
    entity = None  # no accounts: W&B scripts that print it get None
    url = None  # no server: there is no page to link to; `runwatch` shows the run
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
        self._tags = _check_tags(value)
        self._emit(ev.SetTags(tags=list(self._tags), add=[], remove=[], time=_now()))

    @property
    def finished(self) -> bool:
        return self._finished

    # -- logging ----------------------------------------------------------------------------
    def log(self, data: dict[str, Any], step: int | None = None, commit: bool | None = None) -> None:
        """Record a dict of values as a step (W&B's step semantics: see DESIGN.md section 4)."""
        if self._finished:
            raise RunFinishedError(
                f"run {self.path} has finished; call logger.init() to start a new run before log()"
            )
        if type(data) is not dict:
            if not isinstance(data, Mapping):
                raise TypeError(
                    f"log() takes a dict of values, like log({{'loss': 0.1}}), not {type(data).__name__}"
                )
            data = dict(data)
        if step is None and commit is None and self._pending is None:
            # The common call: one committed row, encoded and buffered at once.
            row_step = self._step
            self._step = row_step + 1
            self._last.update(data)
            try:
                payload = _encode(_Log(row_step, _base + _mono(), data))
            except (TypeError, OverflowError, ValueError, RecursionError):
                payload = self._encode_converted(row_step, data)
            self._append(payload)
            if len(self._queue) > _HURRY:
                self._writer.hurry()
            return
        self._log_slow(data, step, commit)

    def _log_slow(self, data: dict[str, Any], step: int | None, commit: bool | None) -> None:
        with self._lock:
            if step is not None:
                step = _check_step(step)
                if step != self._step:
                    self._commit_pending()
                    if step < self._step:
                        self._warn_once(
                            "backwards",
                            f"runwatch: step {step} is before the current step {self._step}; "
                            "it is stored (W&B would drop it) and later rows continue from there",
                        )
                    self._step = step
                if commit is None:
                    commit = False  # step=N alone leaves step N open, as in W&B
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
        try:
            payload = _encode(_Log(self._step, _now(), data))
        except (TypeError, OverflowError, ValueError, RecursionError):
            payload = self._encode_converted(self._step, data)
        self._append(payload)

    def _encode_converted(self, step: int, data: dict[str, Any]) -> bytes:
        """The slow path: NumPy/PyTorch values, non-str keys, objects kept as repr."""
        values = {}
        for key, value in data.items():
            converted = convert(value)
            if isinstance(converted, str) and not isinstance(value, str) and converted == repr(value):
                self._warn_once(
                    f"repr:{key}",
                    f"runwatch: log() value for {key!r} ({type(value).__name__}) is not a number, "
                    "string, list or dict; storing its repr()",
                )
            values[key if isinstance(key, str) else str(key)] = converted
        self._last.update(values)
        try:
            return _encode(_Log(step, _now(), values))
        except (TypeError, OverflowError, ValueError, RecursionError):
            # Something convert() let through (a float or str subclass msgspec refuses).
            for key, value in values.items():
                try:
                    _encode(value)
                except (TypeError, OverflowError, ValueError, RecursionError):
                    values[key] = repr(value)
            return _encode(_Log(step, _now(), values))

    def define_metric(self, name: str, step_metric: str | None = None, summary: str | None = None,
                      hidden: bool = False, **_ignored: Any) -> None:
        """How a metric is summarised (`summary="min"`...) and charted (`step_metric`)."""
        if not isinstance(name, str) or not name:
            raise TypeError("define_metric needs a metric name (a non-empty str), like 'val/loss'")
        if step_metric is not None and not isinstance(step_metric, str):
            raise TypeError(f"define_metric step_metric must be a metric name (str), not {type(step_metric).__name__}")
        if summary is not None and not isinstance(summary, str):
            raise TypeError(f"define_metric summary must be a str like 'min', not {type(summary).__name__}")
        if summary is not None:
            for part in summary.split(","):
                if part.strip() not in ("min", "max", "mean", "first", "last", "none", "best", ""):
                    raise ValueError(
                        f"define_metric summary {summary!r}: use min, max, mean, first, last or none"
                    )
        self._emit(ev.DefineMetric(name=name, step_metric=step_metric, summary=summary,
                                   hidden=bool(hidden), time=_now()))

    def save(self, glob_str: str | os.PathLike[str], base_path: str | os.PathLike[str] | None = None,
             policy: str = "live") -> list[str]:
        """Copy files matching a glob into the run's files/ directory (see logger/files.py)."""
        from .files import save_files

        self._check_open("save")
        return save_files(self, glob_str, base_path, policy)

    def log_artifact(self, artifact_or_path: Any, name: str | None = None, type: str | None = None,
                     aliases: Sequence[str] | None = None) -> Any:
        """Store a file, directory, Artifact or Python object as a versioned artifact."""
        from .artifacts import log_artifact

        self._check_open("log_artifact")
        return log_artifact(self, artifact_or_path, name=name, type=type, aliases=aliases)

    # -- finishing --------------------------------------------------------------------------
    def finish(self, exit_code: int | None = None, quiet: bool | None = None,
               state: str | None = None, error: str | None = None) -> None:
        """Flush, record how the run ended, and close the segment. Safe to call twice."""
        with self._lock:
            if self._finished:
                return
            self._commit_pending()
            if self._saves:
                from .files import save_pending

                save_pending(self)
            code = 0 if exit_code is None else int(exit_code)
            if state is None:
                state = "finished" if code == 0 else "failed"
            self._emit(ev.Finish(time=_now(), exit_code=code, state=state, error=error))
            self._finished = True
            self._writer.close()
        from . import sdk

        sdk._on_finish(self)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.finish()
        else:
            from .sdk import describe_exception

            state, code, text = describe_exception(exc_type, exc, tb)
            self.finish(exit_code=code, state=state, error=text)

    # -- internals --------------------------------------------------------------------------
    def _emit(self, event: ev.Event) -> None:
        try:
            self._append(_encode(event))
        except (TypeError, OverflowError, ValueError) as exc:
            self._warn_once(f"emit:{type(event).__name__}",
                            f"runwatch: could not record {type(event).__name__}: {exc}")

    def _record_config(self, values: dict[str, Any]) -> None:
        self._check_open("config")
        self._emit(ev.ConfigUpdate(values=values, time=_now()))

    def _record_summary(self, values: dict[str, Any], removed: list[str]) -> None:
        self._check_open("summary")
        self._emit(ev.SummaryUpdate(values=values, removed=removed, time=_now()))

    def _reopen_events(self) -> list[ev.Event]:
        """What a new segment repeats when this one was deleted under us."""
        start = self._start_event
        return [msgspec.structs.replace(start, config=self.config.as_dict(), name=self._name,
                                        notes=self._notes, tags=list(self._tags), resumed=True,
                                        time=_now())]

    def _check_open(self, what: str) -> None:
        if self._finished:
            raise RunFinishedError(f"run {self.path} has finished; {what} cannot change it now")

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warn(message)

    def __repr__(self) -> str:
        return f"<Run {self.path} name={self._name!r}{' finished' if self._finished else ''}>"


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


def _check_tags(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        raise TypeError("tags must be a list of strings, like ['baseline'], not one string")
    try:
        tags = list(value)
    except TypeError:
        raise TypeError(f"tags must be a list of strings, not {type(value).__name__}") from None
    out: list[str] = []
    for tag in tags:
        if not isinstance(tag, str):
            raise TypeError(f"each tag must be a str, not {type(tag).__name__}: {tag!r}")
        if len(tag) > 256:
            raise ValueError(f"tag {tag[:20]!r}... is {len(tag)} characters; the limit is 256")
        if "\x00" in tag:
            raise ValueError(f"tag {tag!r} holds a NUL character")
        if tag and tag not in out:
            out.append(tag)
    return tuple(out)

