"""Module-level W&B calls (`logger.init`, `logger.log`, ...) and the process hooks that end a
run the script forgot to finish, or that died of an exception or a signal."""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

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
from .run import Run, _check_tags
from .values import convert

_state_lock = threading.RLock()
_active: list[Run] = []  # runs started in this process and not finished, oldest first
_hooks_installed = False
_exit_code: int | None = None
_exception: tuple[str, int, str] | None = None  # (state, exit code, traceback) of an uncaught one
_pending_config: dict[str, Any] = {}  # `logger.config = {...}` before init


class RunwatchError(RuntimeError):
    """Misuse of the module-level API, such as `log()` before `init()`."""


def init(project: str | None = None, name: str | None = None, notes: str | None = None,
         tags: Sequence[str] | None = None, config: Any = None, group: str | None = None,
         job_type: str | None = None, id: str | None = None, resume: bool | str | None = None,
         dir: str | os.PathLike[str] | None = None, mode: str | None = None,
         reinit: bool | str | None = None, allow_val_change: bool | None = None,
         **_wandb_only: Any) -> Run | DisabledRun:
    """Start a run (W&B's `wandb.init`). Returns the Run; module-level calls use it too."""
    mode = mode or os.environ.get("RUNWATCH_MODE") or os.environ.get("WANDB_MODE") or "online"
    if mode not in ("online", "offline", "disabled", "shared"):
        raise ValueError(f"mode {mode!r}: use 'online' or 'offline' (both write locally) or 'disabled'")
    seed = _seed_config(config)
    if os.environ.get("RUNWATCH_SWEEP_ID"):  # a sweep's trial: its agent set these (logger/sweeps)
        from .sweeps.trial import trial_init

        project, id, seed = trial_init(project, id, seed)
    if mode == "disabled":
        run_d = DisabledRun(project=check_project(project), name=name, config=seed)
        _publish(run_d)
        return run_d
    with _state_lock:
        if _active and reinit in (None, False, "return_previous", "default"):
            return _active[-1]  # W&B's default: a second init returns the active run
        if _active and reinit in (True, "finish_previous"):
            _active[-1].finish()
        return _start(project, name, notes, tags, seed, group, job_type, id, resume, dir,
                      bool(allow_val_change))


def _start(project: Any, name: Any, notes: Any, tags: Any, config: dict[str, Any], group: Any,
           job_type: Any, run_id: Any, resume: Any, dir: Any, allow_val_change: bool) -> Run:
    project = check_project(project)
    root = resolve_root(dir)
    if root.exists() and not root.is_dir():
        raise NotADirectoryError(f"run root {root} is a file; pass dir= a directory (or set RUNWATCH_DIR)")
    run_id = check_run_id(run_id) if run_id is not None else new_run_id()
    previous = _previous_run(root, project, run_id, resume)
    given: dict[str, Any] = {
        "name": check_name("name", name) if name is not None else None,
        "notes": check_name("notes", notes, 1_000_000) if notes is not None else None,
        "tags": _check_tags(tags) if tags is not None else None,
        "group": check_name("group", group) if group is not None else None,
        "job_type": check_name("job_type", job_type) if job_type is not None else None,
    }
    labels = {k: v for k, v in given.items() if v is not None}
    values: dict[str, Any] = {}
    if previous is not None:
        config = {**previous.config, **config}
        values = previous.summary_flat()
        labels = {"name": previous.name, "notes": previous.notes, "tags": previous.tags,
                  "group": previous.group, "job_type": previous.job_type, **labels}
    cwd = os.getcwd()
    commit, branch = git_info(Path(cwd))
    _install_hooks()  # before the run exists on disk, so no signal finds it unhandled
    follows = sorted(previous.segments) if previous is not None else []
    run = Run(
        root=root, project=project, run_id=run_id,
        name=labels.get("name") or human_name(root / project), notes=labels.get("notes"),
        tags=labels.get("tags", ()), group=labels.get("group"), job_type=labels.get("job_type"),
        config=config, allow_val_change=allow_val_change, resumed=previous is not None,
        start_step=(previous.step + 1) if previous is not None and previous.step is not None else 0,
        last_values={k: v for k, v in values.items() if not k.startswith("_")},
        meta={"command": list(sys.argv), "python": sys.version.split()[0], "cwd": cwd,
              "git_commit": commit, "git_branch": branch, "follows": follows},
    )
    if previous is not None:
        # A resume restates the labels it read; readers take only what init was given (as
        # edits), so a tag added in the TUI while this script started is not undone.
        if given["name"] is not None:
            run.name = given["name"]
        if given["notes"] is not None:
            run.notes = given["notes"]
        if given["tags"] is not None:
            run.tags = given["tags"]
    run.sweep_id = os.environ.get("RUNWATCH_SWEEP_ID") or None
    _active.append(run)
    _publish(run)
    # Only now does the run become visible (its start reaches the file): a SIGTERM from here
    # on finds it in _active and records it as killed.
    run._writer.flush()
    return run


def _previous_run(root: Path, project: str, run_id: str, resume: Any) -> Any:
    """The run to continue (resume="allow"/"must" and it exists), or None for a new one."""
    if resume not in (None, False, True, "allow", "must", "never", "auto"):
        raise ValueError(f"resume={resume!r}: use 'allow', 'must' or 'never'")
    if resume is True or resume == "auto":
        resume = "allow"
    run_dir = root / project / run_id
    previous = _read_previous(run_dir) if resume in ("allow", "must") else None
    if resume == "must" and previous is None:
        raise ValueError(f"resume='must' but run {project}/{run_id} does not exist under {root}")
    exists = run_dir.is_dir() and any(p.suffix == ".rws" for p in run_dir.iterdir())
    if exists and previous is None:
        raise ValueError(
            f"run {project}/{run_id} already exists under {root}; pass resume='allow' to continue it"
        )
    return previous


def _read_previous(run_dir: Path) -> Any:
    if not run_dir.is_dir():
        return None
    from .reader import RootReader

    root = run_dir.parent.parent
    reader = RootReader(root)
    reader.read_paths([run_dir])
    return reader.runs.get(f"{run_dir.parent.name}/{run_dir.name}")


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


def _reset_module() -> None:
    module = _module()
    object.__setattr__(module, "run", None)
    object.__setattr__(module, "config", _Unavailable("config"))
    object.__setattr__(module, "summary", _Unavailable("summary"))


# -- process hooks --------------------------------------------------------------------------
def describe_exception(exc_type: type[BaseException] | None, exc: BaseException | None,
                       tb: TracebackType | None) -> tuple[str, int, str]:
    """(state, exit code, traceback text) for an exception that ended a run."""
    text = "".join(traceback.format_exception(exc_type, exc, tb)) if exc_type else ""
    if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
        return "killed", 130, text or "KeyboardInterrupt"
    if exc_type is not None and issubclass(exc_type, SystemExit):
        code = exc.code if isinstance(exc, SystemExit) else 1
        code = code if isinstance(code, int) else (0 if code is None else 1)
        return ("finished" if code == 0 else "failed"), code, ""
    return "failed", 1, text


def _install_hooks() -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(_at_exit)
    previous_hook = sys.excepthook

    def excepthook(tp: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        global _exception
        _exception = describe_exception(tp, value, tb)
        previous_hook(tp, value, tb)

    sys.excepthook = excepthook
    real_exit = sys.exit

    def exit(code: Any = None) -> Any:  # noqa: A001 - records the code, then exits as before
        global _exit_code
        _exit_code = code if isinstance(code, int) else (0 if code is None else 1)
        return real_exit(code)

    sys.exit = exit
    if threading.current_thread() is threading.main_thread():
        _chain_signal(signal.SIGTERM)
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _chain_signal(signum: int) -> None:
    previous = signal.getsignal(signum)

    def handler(sig: int, frame: Any) -> None:
        for run in list(_active):
            run.finish(exit_code=128 + sig, state="killed", error=f"{signal.Signals(sig).name} received")
        if callable(previous):
            previous(sig, frame)
        elif previous != signal.SIG_IGN:
            signal.signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)

    try:
        signal.signal(signum, handler)
    except (ValueError, OSError):
        pass


def _at_exit() -> None:
    for run in list(reversed(_active)):
        try:
            if _exception is not None:
                state, code, text = _exception
                run.finish(exit_code=code, state=state, error=text)
            else:
                run.finish(exit_code=_exit_code or 0)
        except Exception as exc:  # noqa: BLE001 - never turn a clean exit into a traceback
            print(f"runwatch: could not finish run {run.path}: {exc}", file=sys.stderr)


def _after_fork_in_child() -> None:
    """A forked child (a DataLoader worker) must never write its parent's segment."""
    for run in _active:
        run._writer.abandon_in_child()
        run._append = _discard  # its log() calls cost nothing and write nothing
    _active.clear()
    object.__setattr__(_module(), "run", None)


def _discard(frame: bytes) -> None:
    return None
