"""Module-level W&B calls (`logger.init`, `logger.log`, ...) and the process hooks that end a
run the script forgot to finish, or that died of an exception or a signal."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import hooks
from .config import Config
from .disabled import DisabledRun
from .paths import (
    check_name,
    check_project,
    check_run_id,
    git_info,
    human_name,
    new_run_id,
    resolve_root,
)
from .run import Run
from .values import check_tags, convert, safe_str

_state_lock = threading.RLock()
_active: list[Run] = []  # runs started in this process and not finished, oldest first
_pending_config: dict[str, Any] = {}  # `logger.config = {...}` before init
describe_exception = hooks.describe_exception  # (kept here for callers of the old name)


class RunwatchError(RuntimeError):
    """Misuse of the module-level API, such as `log()` before `init()`."""


def init(project: str | None = None, name: str | None = None, notes: str | None = None,
         tags: Sequence[str] | None = None, config: Any = None, group: str | None = None,
         job_type: str | None = None, id: str | None = None, resume: bool | str | None = None,
         dir: str | os.PathLike[str] | None = None, mode: str | None = None,
         reinit: bool | str | None = None, allow_val_change: bool | None = None,
         **_wandb_only: Any) -> Run | DisabledRun:
    """Start a run (W&B's `wandb.init`). Returns the Run; module-level calls use it too."""
    from .wandb_env import apply_environment  # W&B's WANDB_* variables fill what was not passed

    project, name, notes, tags, group, job_type, id, resume, dir, mode = apply_environment(
        project, name, notes, tags, group, job_type, id, resume, dir, mode)
    mode = mode or os.environ.get("RUNWATCH_MODE") or os.environ.get("WANDB_MODE") or "online"
    if mode not in ("online", "offline", "disabled", "shared"):
        raise ValueError(f"mode {mode!r}: use 'online' or 'offline' (both write locally) or 'disabled'")
    seed = _seed_config(config)
    if os.environ.get("RUNWATCH_SWEEP_ID"):  # a sweep's trial: its agent set these (logger/sweeps)
        from .sweeps.trial import trial_init

        project, id, resume, seed = trial_init(project, id, resume, seed)
    if mode == "disabled":
        run_d = DisabledRun(project=check_project(project), name=name, config=seed,
                            tags=check_tags(tags) if tags is not None else (), notes=notes,
                            group=group, job_type=job_type, allow_val_change=bool(allow_val_change),
                            on_finish=_on_disabled_finish)
        _publish(run_d)
        return run_d
    with _state_lock:
        if _active and reinit in (None, False, "return_previous", "default"):
            return _active[-1]  # W&B's default: a second init returns the active run
        if _active and reinit in (True, "finish_previous"):
            _active[-1].finish()
        from .capture import prepare  # console and system metrics: logger/capture.py

        capture = prepare(_wandb_only)
        run = _start(project, name, notes, tags, seed, group, job_type, id, resume, dir,
                     bool(allow_val_change), _entity(_wandb_only.get("entity")))
        capture.start(run)
        return run


def _start(project: Any, name: Any, notes: Any, tags: Any, config: dict[str, Any], group: Any,
           job_type: Any, run_id: Any, resume: Any, dir: Any, allow_val_change: bool,
           entity: str | None = None) -> Run:
    project = check_project(project)
    root = _run_root(dir)
    run_id = check_run_id(run_id) if run_id is not None else new_run_id()
    previous = _previous_run(root, project, run_id, resume)
    given = _given_labels(name, notes, tags, group, job_type)
    labels = {k: v for k, v in given.items() if v is not None}
    values: dict[str, Any] = {}
    if previous is not None:
        config = {**previous.config, **config}
        values = previous.last_values()
        labels = {"name": previous.name, "notes": previous.notes, "tags": previous.tags,
                  "group": previous.group, "job_type": previous.job_type, **labels}
    cwd = _cwd()
    commit, branch = git_info(Path(cwd))
    hooks.install(_finish_all, _after_fork_in_child)  # before the run exists on disk
    follows = sorted(previous.segments) if previous is not None else []
    with hooks.critical():  # a signal now waits until the run is visible and can be finished
        run = Run(
            root=root, project=project, run_id=run_id,
            name=labels.get("name") or human_name(root / project), notes=labels.get("notes"),
            tags=labels.get("tags", ()), group=labels.get("group"), job_type=labels.get("job_type"),
            config=config, allow_val_change=allow_val_change, resumed=previous is not None,
            start_step=(previous.step + 1) if previous is not None and previous.step is not None else 0,
            last_values=values,
            meta={"command": [safe_str(a) for a in sys.argv], "python": sys.version.split()[0],
                  "cwd": safe_str(cwd), "git_commit": commit, "git_branch": branch,
                  "follows": follows, "sweep_id": _sweep_id(),
                  "entity": entity or (previous.entity if previous is not None else None)},
            on_finish=_on_finish,
        )
        if previous is not None:
            _restate_given(run, given)
        run.sweep_id = _sweep_id()
        _active.append(run)
        _publish(run)
        # Only now does the run become visible (its start reaches the file): a SIGTERM from
        # here on finds it in _active and records it as killed.
        run._writer.flush()
    return run


def _entity(given: Any) -> str | None:
    """init(entity=...), else $WANDB_ENTITY: recorded, so that a path naming another entity
    ("other/project/id") finds no run, as on W&B. None when neither says one."""
    entity = given if given is not None else os.environ.get("WANDB_ENTITY")
    if entity is None or entity == "":
        return None
    entity = check_name("entity", entity, 128)
    if "/" in entity:
        raise ValueError(f"entity {entity[:40]!r}: an entity has no '/' (it is the first part of "
                         "'entity/project/id')")
    return entity


def _run_root(dir: Any) -> Path:
    """The run root init writes under (argument > env var > default), as an absolute path
    fixed at init: a later chdir moves nothing."""
    root = resolve_root(dir)
    if root.exists() and not root.is_dir():
        raise NotADirectoryError(f"run root {root} is a file; pass dir= a directory (or set RUNWATCH_DIR)")
    return Path(os.path.abspath(root))


def _given_labels(name: Any, notes: Any, tags: Any, group: Any, job_type: Any) -> dict[str, Any]:
    """The labels init was given, checked; None for each one it was not."""
    return {
        "name": check_name("name", name) if name is not None else None,
        "notes": check_name("notes", notes, 1_000_000) if notes is not None else None,
        "tags": check_tags(tags) if tags is not None else None,
        "group": check_name("group", group) if group is not None else None,
        "job_type": check_name("job_type", job_type) if job_type is not None else None,
    }


def _restate_given(run: Run, given: dict[str, Any]) -> None:
    """A resume restates the labels it read; readers take only what init was given (as
    edits), so a tag added in the TUI while this script started is not undone."""
    if given["name"] is not None:
        run.name = given["name"]
    if given["notes"] is not None:
        run.notes = given["notes"]
    if given["tags"] is not None:
        run.tags = given["tags"]


def _sweep_id() -> str | None:
    """The sweep whose trial this is: its agent's variable, or W&B's (recorded in RunStart)."""
    return os.environ.get("RUNWATCH_SWEEP_ID") or os.environ.get("WANDB_SWEEP_ID") or None


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError:  # the directory the script was started in was deleted
        return os.environ.get("PWD", "")


def _previous_run(root: Path, project: str, run_id: str, resume: Any) -> Any:
    """The run to continue (resume="allow"/"must" and it exists), or None for a new one."""
    if resume not in (None, False, True, "allow", "must", "never", "auto"):
        raise ValueError(f"resume={resume!r}: use 'allow', 'must' or 'never'")
    if resume is True or resume == "auto":
        resume = "allow"
    run_dir = root / project / run_id
    from .reader import is_run_dir  # here: `import logger` stays light

    # Looked at before the run is read: a rank starting beside another one with the same id
    # must not find no run, then a run (created meanwhile), and refuse its resume="allow".
    exists = run_dir.is_dir() and is_run_dir(run_dir)
    previous = _read_previous(run_dir) if resume in ("allow", "must") else None
    if resume == "must" and previous is None:
        raise ValueError(f"resume='must' but run {project}/{run_id} does not exist under {root}")
    # With "allow", a run dir without a start is a sibling rank's segment being created (its
    # file exists, its first write has not landed): a new run, not one to refuse.
    if exists and previous is None and resume != "allow":
        raise ValueError(
            f"run {project}/{run_id} already exists under {root}; pass resume='allow' to continue it"
        )
    return previous


def _read_previous(run_dir: Path) -> Any:
    if not run_dir.is_dir():
        return None
    from .resume import read_previous

    return read_previous(run_dir)


def _seed_config(config: Any) -> dict[str, Any]:
    values = dict(_pending_config)
    _pending_config.clear()
    if config is None:
        return values
    if isinstance(config, (str, os.PathLike)) and str(config).endswith((".yaml", ".yml", ".json")):
        raise TypeError("config from a file: load it yourself (json.load) and pass the dict")
    from .config import _as_dict

    values.update({str(k): convert(v) for k, v in _as_dict(config).items()})
    return values


# -- module-level functions -----------------------------------------------------------------
def log(data: dict[str, Any], step: int | None = None, commit: bool | None = None) -> None:
    run = _module().run
    if run is None:
        raise RunwatchError("logger.log() needs a run: call logger.init(...) first")
    run.log(data, step=step, commit=commit)


def define_metric(name: str, step_metric: str | None = None, summary: str | None = None,
                  hidden: bool = False, **kwargs: Any) -> None:
    run = _module().run
    if run is None:
        raise RunwatchError("logger.define_metric() needs a run: call logger.init(...) first")
    run.define_metric(name, step_metric=step_metric, summary=summary, hidden=hidden, **kwargs)


def log_artifact(artifact_or_path: Any, name: str | None = None, type: str | None = None,
                 aliases: Sequence[str] | None = None) -> Any:
    run = _module().run
    if run is None:
        raise RunwatchError("logger.log_artifact() needs a run: call logger.init(...) first")
    return run.log_artifact(artifact_or_path, name=name, type=type, aliases=aliases)


def save(glob_str: str | os.PathLike[str], base_path: str | os.PathLike[str] | None = None,
         policy: str = "live") -> list[str]:
    run = _module().run
    if run is None:
        raise RunwatchError("logger.save() needs a run: call logger.init(...) first")
    return run.save(glob_str, base_path=base_path, policy=policy)


def finish(exit_code: int | None = None, quiet: bool | None = None) -> None:
    run = _module().run
    if run is not None:
        run.finish(exit_code=exit_code)


def watch(models: Any = None, criterion: Any = None, log: str | None = "gradients",
          log_freq: int = 1000, *args: Any, **kwargs: Any) -> None:
    """W&B's gradient/parameter hooks. runwatch logs what you log: a no-op, so scripts that
    call it run unchanged."""
    return None


def unwatch(models: Any = None) -> None:
    return None


def login(*args: Any, **kwargs: Any) -> bool:
    """Nothing to log in to: runwatch has no server. Always True."""
    return True


class Settings(dict[str, Any]):
    """Accepted (and ignored) where W&B takes `settings=wandb.Settings(...)`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)


class _Unavailable:
    """What `logger.config` and `logger.summary` are before init: every use says why."""

    _what: str

    def __init__(self, what: str) -> None:
        object.__setattr__(self, "_what", what)

    def _fail(self, *_args: Any, **_kwargs: Any) -> Any:
        raise RunwatchError(f"logger.{self._what} is not available yet: call logger.init(...) first")

    __getattr__ = __getitem__ = __setitem__ = __setattr__ = __contains__ = __iter__ = _fail

    def __repr__(self) -> str:
        return f"<logger.{self._what}: call logger.init() first>"


def _module() -> Any:
    return sys.modules[__package__]


def _publish(run: Run | DisabledRun | None) -> None:
    module = _module()
    object.__setattr__(module, "run", run)
    if run is None:
        return
    object.__setattr__(module, "config", run.config)
    object.__setattr__(module, "summary", run.summary)


def set_module_config(value: Any) -> None:
    """`logger.config = {...}` (the W&B docs' seed script does this): merge, don't replace."""
    run = _module().run
    if isinstance(value, Config) and run is not None and value is run.config:
        return
    if run is None:
        _pending_config.update(_seed_config(value))
        return
    from .config import _as_dict

    run.config.update(_as_dict(value), allow_val_change=True)


def _on_finish(run: Run) -> None:
    with _state_lock:
        if run in _active:
            _active.remove(run)
        module = _module()
        if module.run is run:
            if _active:
                _publish(_active[-1])
            else:  # as W&B: after the last finish, module-level calls need a new init
                _reset_module()


def _on_disabled_finish(run: DisabledRun) -> None:
    if _module().run is run:
        _reset_module()


def _reset_module() -> None:
    module = _module()
    object.__setattr__(module, "run", None)
    object.__setattr__(module, "config", _Unavailable("config"))
    object.__setattr__(module, "summary", _Unavailable("summary"))


# -- process hooks (logger/hooks.py decides when; this is what is done) ---------------------
def _finish_all(code: int, state: str, error: str | None) -> None:
    """End every run still open: at exit, or when a signal is about to end the process."""
    for run in list(reversed(_active)):
        try:
            run.finish(exit_code=code, state=state, error=error)
        except Exception as exc:  # noqa: BLE001 - never turn a clean exit into a traceback
            print(f"runwatch: could not finish run {run.path}: {exc}", file=sys.stderr)


def _after_fork_in_child() -> None:
    """A forked child (a DataLoader worker) must never write its parent's segment: its runs
    stay published, so `logger.log` and `run.log` alike warn once and do nothing."""
    for run in _active:
        run._after_fork_in_child()
    _active.clear()
