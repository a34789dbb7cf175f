"""W&B's environment variables, read when `init` is called, and `runwatch exec`'s environment.

What the script passes to `init` wins over the environment, as in W&B; the environment
fills the rest (WANDB_PROJECT, WANDB_NAME, WANDB_NOTES, WANDB_TAGS, WANDB_RUN_GROUP,
WANDB_JOB_TYPE, WANDB_RUN_ID, WANDB_RESUME, WANDB_MODE, WANDB_DIR). The run root is
decided by `run_root_argument` (its docstring is the precedence the README states).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

SHIM_DIR = Path(__file__).resolve().parent / "_wandb_shim"
EXEC_MARK = "RUNWATCH_EXEC"  # set by `runwatch exec` for CMD and everything it starts
_TRUE = ("1", "true", "yes", "on")
_MODES = {"online": "online", "offline": "offline", "disabled": "disabled", "shared": "shared",
          "run": "online", "dryrun": "offline"}  # "dryrun" is what Lightning sets for offline=True
_RESUME = {"allow": "allow", "must": "must", "never": "never", "auto": "auto",
           "true": True, "1": True, "false": None, "0": None}
CONSOLE_MODES = ("auto", "redirect", "wrap", "wrap_raw", "wrap_emu", "off")


def _env(name: str, environ: Mapping[str, str]) -> str | None:
    value = environ.get(name)
    return value if value not in (None, "") else None


def apply_environment(project: Any, name: Any, notes: Any, tags: Any, group: Any, job_type: Any,
                      run_id: Any, resume: Any, dir: Any, mode: Any,
                      environ: Mapping[str, str] | None = None) -> tuple[Any, ...]:
    """init's arguments, with W&B's environment filling each one the script left as None."""
    env = os.environ if environ is None else environ
    project = project if project is not None else _env("WANDB_PROJECT", env)
    name = name if name is not None else _env("WANDB_NAME", env)
    notes = notes if notes is not None else _env("WANDB_NOTES", env)
    if tags is None and _env("WANDB_TAGS", env):
        tags = [t.strip() for t in env["WANDB_TAGS"].split(",") if t.strip()]
    group = group if group is not None else _env("WANDB_RUN_GROUP", env)
    job_type = job_type if job_type is not None else _env("WANDB_JOB_TYPE", env)
    run_id = run_id if run_id is not None else _env("WANDB_RUN_ID", env)
    if resume is None and _env("WANDB_RESUME", env):
        resume = _setting("WANDB_RESUME", env["WANDB_RESUME"], _RESUME)
    console_mode(env)  # a wrong value is an error now, not a surprise later
    return (project, name, notes, tags, group, job_type, run_id, resume,
            run_root_argument(dir, env), run_mode(mode, env))


def _setting(var: str, value: str, allowed: dict[str, Any]) -> Any:
    key = value.strip().lower()
    if key not in allowed:
        raise ValueError(f"${var}={value!r}: use one of {', '.join(sorted(allowed))}")
    return allowed[key]


def run_mode(mode: Any, environ: Mapping[str, str]) -> str:
    """mode= > $RUNWATCH_MODE > $WANDB_MODE > $WANDB_DISABLED (true: disabled) > online."""
    if mode is not None:
        return _MODES.get(mode, mode) if isinstance(mode, str) else mode
    for var in ("RUNWATCH_MODE", "WANDB_MODE"):
        value = _env(var, environ)
        if value is not None:
            return str(_setting(var, value, _MODES))
    if (_env("WANDB_DISABLED", environ) or "").lower() in _TRUE:
        return "disabled"
    return "online"


def run_root_argument(dir: Any, environ: Mapping[str, str]) -> Any:
    """The run root, most specific first:

    1. under `runwatch exec`, $RUNWATCH_DIR: the person running the job chose it, while a
       framework's `dir` (Lightning's `save_dir`) was chosen by code that never heard of runwatch;
    2. `init(dir=D)`, unless D is the current directory ("." is what frameworks pass when the
       user chose nothing; W&B would write ./wandb there): then it is as if no dir was given;
    3. $RUNWATCH_DIR;
    4. $WANDB_DIR (unless it names the current directory);
    5. ./runs, the root `runwatch` shows by default.
    """
    runwatch_dir = _env("RUNWATCH_DIR", environ)
    if runwatch_dir is not None and _env(EXEC_MARK, environ):
        return Path(runwatch_dir).expanduser()
    if dir is not None and str(dir) != "" and not _is_cwd(dir):
        return Path(dir).expanduser()
    if runwatch_dir is not None:
        return Path(runwatch_dir).expanduser()
    wandb_dir = _env("WANDB_DIR", environ)
    if wandb_dir is not None and not _is_cwd(wandb_dir):
        return Path(wandb_dir).expanduser()
    return None  # paths.resolve_root's default: ./runs


def _is_cwd(path: Any) -> bool:
    try:
        return Path(path).expanduser().resolve() == Path.cwd().resolve()
    except (OSError, TypeError, ValueError):
        return False


def console_mode(environ: Mapping[str, str] | None = None) -> str:
    """$WANDB_CONSOLE checked against W&B's values ("off" turns console capture off)."""
    env = os.environ if environ is None else environ
    value = (_env("WANDB_CONSOLE", env) or "auto").strip().lower()
    if value not in CONSOLE_MODES:
        raise ValueError(f"$WANDB_CONSOLE={value!r}: use one of {', '.join(CONSOLE_MODES)}")
    return value


def exec_environment(environ: MutableMapping[str, str] | Mapping[str, str]) -> dict[str, str]:
    """The environment `runwatch exec` gives CMD: the wandb shim first on PYTHONPATH (once),
    and the mark that says a run was started by unmodified code."""
    env = dict(environ)
    shim = str(SHIM_DIR)
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != shim]
    env["PYTHONPATH"] = os.pathsep.join([shim, *parts])
    env[EXEC_MARK] = "1"
    return env
