"""The smaller W&B calls real scripts make, with a local meaning: errors, terminal messages,
`require`/`setup`/`join`, artifacts in use, and the `wandb.util` helpers scripts import.

Where W&B talks to a server (a URL, an entity, a sweep), runwatch gives a local answer
(a file:// URL of the run directory, the local user name, None), never a crash.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import errors
from .errors import CommError, Error, UsageError
from .toplevel import current_run, finish

if TYPE_CHECKING:
    from .artifacts import Artifact
    from .run import Run

_TRUE = ("1", "true", "yes", "on")
__all__ = ["CommError", "Error", "UsageError", "errors", "join", "link_artifact", "log_model", "require",
           "setup", "teardown", "termerror", "termlog", "termwarn", "use_artifact", "use_model", "util"]


# -- terminal messages ----------------------------------------------------------------------
def _silent() -> bool:
    return os.environ.get("WANDB_SILENT", "").strip().lower() in _TRUE


def termlog(string: str = "", newline: bool = True, repeat: bool = True, prefix: bool = True) -> None:
    """A `wandb: ...` line on stderr, as W&B prints it; nothing when $WANDB_SILENT is true."""
    _term(string, newline, prefix, "")


def termwarn(string: str, newline: bool = True, repeat: bool = True, prefix: bool = True) -> None:
    _term(string, newline, prefix, "WARNING ")


def termerror(string: str, newline: bool = True, repeat: bool = True, prefix: bool = True) -> None:
    _term(string, newline, prefix, "ERROR ")


def _term(string: str, newline: bool, prefix: bool, level: str) -> None:
    if _silent():
        return
    head = f"wandb: {level}" if prefix else ""
    text = "\n".join(head + line for line in str(string).split("\n"))
    print(text, end="\n" if newline else "", file=sys.stderr, flush=True)


# -- process-level calls --------------------------------------------------------------------
def require(requirement: str | Sequence[str] | None = None, experiment: Any = None) -> None:
    """W&B's feature switches ("service", "core"): everything runwatch has is always on."""
    if requirement is not None and not isinstance(requirement, (str, list, tuple)):
        raise UsageError(f"wandb.require takes a feature name like 'core', not {type(requirement).__name__}")


def setup(settings: Any = None) -> None:
    """W&B starts its background service here; runwatch has none to start."""
    return None


def teardown(exit_code: int | None = None) -> None:
    finish(exit_code)


def join(exit_code: int | None = None, quiet: bool | None = None) -> None:
    """The old name of `finish()`."""
    finish(exit_code, quiet)


def local_entity() -> str:
    """What `run.entity` is: there are no accounts, so the local user's name."""
    import getpass  # here: `import logger` and every reader skip it

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry (a container): any name will do
        return "local"


def save_without_arguments(run: Any) -> bool:
    """`run.save()` with no glob: W&B persists attribute edits as they happen, and says so."""
    termwarn("Calling run.save() without any arguments is deprecated: changes to attributes "
             "are saved as they are made")
    return True


# -- artifacts in use (module level) --------------------------------------------------------
def _current(what: str) -> Run:
    return current_run(f"logger.{what}()")


def use_artifact(artifact_or_name: str | Artifact, type: str | None = None,
                 aliases: Sequence[str] | None = None, use_as: str | None = None) -> Artifact:
    """Resolve an artifact ("name:alias", "project/name:alias" or an Artifact) and record
    that the current run used it."""
    return _current("use_artifact").use_artifact(artifact_or_name, type=type, aliases=aliases)


def link_artifact(artifact: Artifact, target_path: str, aliases: Sequence[str] | None = None) -> Artifact:
    return _current("link_artifact").link_artifact(artifact, target_path, aliases=aliases)


def log_model(path: str | os.PathLike[str], name: str | None = None,
              aliases: Sequence[str] | None = None) -> Artifact | None:
    return _current("log_model").log_model(path, name=name, aliases=aliases)


def use_model(name: str) -> str:
    return _current("use_model").use_model(name)


# -- wandb.util -----------------------------------------------------------------------------
def generate_id(length: int = 8) -> str:
    """A random run id, as `wandb.util.generate_id()` gives (lowercase letters and digits)."""
    from .paths import new_run_id

    out = ""
    while len(out) < length:
        out += new_run_id()
    return out[:length]


def get_module(name: str, required: str | bool | None = None, lazy: bool = True) -> Any:
    """Import `name`, or None (or UsageError naming `required`) if it is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError:
        if required:
            message = required if isinstance(required, str) else f"module {name!r} is required"
            raise UsageError(message) from None
        return None


def make_artifact_name_safe(name: str) -> str:
    """Replace what an artifact name may not hold with '-' (W&B's rule: [A-Za-z0-9_.-])."""
    cleaned = re.sub(r"[^a-zA-Z0-9_\-.]", "_", name)
    return cleaned[-128:] if len(cleaned) > 128 else cleaned


def to_forward_slash_path(path: str | os.PathLike[str]) -> str:
    return Path(path).as_posix()



util = sys.modules[__name__]  # `wandb.util.generate_id()`: these helpers are W&B's util's
