"""Run's methods that hand off to other modules: metrics (logger/metrics.py), media
(logger/media/), files, artifacts, alerts, and W&B's corners (local answers, logger/compat.py).

Module functions that take the run as `self`, bound as methods in Run's class body
(logger/run.py), so that run.py keeps to writing rows and finishing. Heavy modules are
imported inside the functions, as before: `import logger` loads only stdlib and msgspec.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import clock
from . import events as ev
from .metrics import check_define_metric
from .rows import encode_row
from .snapshot import KeyStat
from .values import check_tags

if TYPE_CHECKING:
    from .run import Run

_now = clock.now
_SCALARS = (str, int, float, bool, type(None))  # values that are never media


# -- metrics and snapshots ----------------------------------------------------------------------
def define_metric(self: Run, name: str, step_metric: str | None = None, step_sync: bool | None = None,
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


def _snapshot_stats(self: Run) -> dict[str, Any] | None:
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


# -- media: stored as files and refs (logger/media/) --------------------------------------------
def _encode_converted(self: Run, step: int, data: dict[str, Any]) -> bytes:
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


def _media_now(self: Run, data: dict[str, Any]) -> dict[str, Any]:
    """Media in a row left open (`step=`, `commit=False`) stored at the call, as W&B does:
    a table the script goes on filling is stored as it was when logged."""
    from .media import convert_row

    return convert_row(self, self._step, data)


def _summary_media(self: Run, data: Mapping[str, Any]) -> Mapping[str, Any]:
    """Media set in the summary stored as W&B does (`<key>_summary_<sha>` files and refs)."""
    if self._finished or all(isinstance(v, _SCALARS) for v in data.values()):
        return data  # (a finished run refuses the update itself)
    from .media import convert_row

    return convert_row(self, "summary", dict(data))


# -- files, artifacts and alerts ----------------------------------------------------------------
def save(self: Run, glob_str: str | os.PathLike[str] | None = None,
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


def log_artifact(self: Run, artifact_or_path: Any, name: str | None = None, type: str | None = None,
                 aliases: Sequence[str] | None = None) -> Any:
    """Store a file, directory, Artifact or Python object as a versioned artifact."""
    from .artifacts import log_artifact

    if not self._check_open("log_artifact"):
        return None
    return log_artifact(self, artifact_or_path, name=name, type=type, aliases=aliases)


def alert(self: Run, title: str, text: str = "", level: Any = None, wait_duration: Any = None) -> None:
    """W&B's run.alert(): an Alert event, rate-limited per title (see logger/media/alerts.py)."""
    from .media.alerts import send_alert

    send_alert(self, title, text, level, wait_duration)


# -- labels: each set is an event -------------------------------------------------------------
def set_name(self: Run, value: str) -> None:
    from .paths import check_name

    self._name = check_name("name", value)
    self._emit(ev.SetName(name=self._name, time=_now()))


def set_notes(self: Run, value: str) -> None:
    if not isinstance(value, str):
        raise TypeError(f"notes must be a str, not {type(value).__name__}")
    self._notes = value
    self._emit(ev.SetNotes(notes=value, time=_now()))


def set_tags(self: Run, value: Sequence[str]) -> None:
    self._tags = check_tags(value)
    self._emit(ev.SetTags(tags=list(self._tags), add=[], remove=[], time=_now()))


# -- W&B's corners and artifacts in use: local answers (logger/compat.py) -----------------------
def entity(self: Run) -> str:
    """The entity init was given (entity=, $WANDB_ENTITY), as W&B's; else, there being no
    accounts, the local user's name, so `f"{run.entity}/{run.project}"` still works."""
    from .compat import local_entity

    return self._start_event.entity or local_entity()


def url(self: Run) -> str:
    """No server: a file:// URL of the run's directory (what `runwatch show` reads)."""
    return self._dir.resolve().as_uri()


def get_url(self: Run) -> str:
    return self.url


def get_project_url(self: Run) -> str:
    return self._dir.parent.resolve().as_uri()


def get_sweep_url(self: Run) -> str | None:
    return None


def join(self: Run, exit_code: int | None = None, quiet: bool | None = None) -> None:
    """The old name of finish()."""
    self.finish(exit_code)


def _label(self: Run, *args: Any, **kwargs: Any) -> None:
    """W&B tags its telemetry with the integration that started the run: nothing to tag."""
    return None


def watch(self: Run, models: Any = None, criterion: Any = None, log: str | None = "gradients",
          log_freq: int = 1000, idx: int | None = None, log_graph: bool = False) -> None:
    """W&B's gradient hooks: runwatch records what is logged, so this is a no-op."""
    return None


def unwatch(self: Run, models: Any = None) -> None:
    return None


def use_artifact(self: Run, artifact_or_name: Any, type: str | None = None,
                 aliases: Sequence[str] | None = None, use_as: str | None = None) -> Any:
    """Resolve an artifact ("name:alias", "project/name:alias" or an Artifact) locally
    and record that this run used it (`Api().run(...).used_artifacts()`)."""
    from .artifact_use import use_artifact

    self._check_open("use_artifact")
    return use_artifact(self, artifact_or_name, type=type, aliases=aliases)


def link_artifact(self: Run, artifact: Any, target_path: str, aliases: Sequence[str] | None = None) -> Any:
    from .artifact_use import link_artifact

    self._check_open("link_artifact")
    return link_artifact(self, artifact, target_path, aliases=aliases)


def log_model(self: Run, path: str | os.PathLike[str], name: str | None = None,
              aliases: Sequence[str] | None = None) -> Any:
    from .artifact_use import log_model

    self._check_open("log_model")
    return log_model(self, path, name=name, aliases=aliases)


def use_model(self: Run, name: str) -> str:
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

