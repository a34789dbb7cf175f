"""`import wandb` under `runwatch exec`: W&B's module-level API, answered by runwatch's logger.

Every name not defined here is looked up on `logger` when it is used, so `wandb.run`,
`wandb.config` and `wandb.summary` follow the current run, and names logger gains later
(media types, ...) appear here too. Submodules are real modules of this package: nothing
is aliased in sys.modules, so a failed `import wandb.x` cannot touch logger's own modules.
"""

from __future__ import annotations

import sys
import types
from typing import Any

try:
    import logger
except ImportError as exc:  # CMD's Python is not the one runwatch is installed in
    raise ImportError(
        f"runwatch exec: this Python ({sys.executable}) cannot import runwatch's logger ({exc}); "
        "run CMD with the Python that has runwatch installed, e.g. the virtualenv's python"
    ) from exc

from . import errors, sdk, util, wandb_run
from .errors import CommError, Error, UsageError

__version__ = "0.31.0"  # the W&B release whose behaviour runwatch follows
__runwatch__ = logger.__version__

_ON_LOGGER = ("config",)  # assigning these on wandb assigns them on logger (config merges)
_SUBMODULES = ("data_types", "plot", "sklearn")  # this package's own, loaded when first named

__all__ = ["CommError", "Error", "UsageError", "errors", "sdk", "util", "wandb_run"]
__all__ += [name for name in logger.__all__ if name not in __all__]  # `from wandb import *`


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    if name in _SUBMODULES:  # `wandb.plot.line(...)` after a bare `import wandb`
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    try:
        return getattr(logger, name)
    except AttributeError:
        raise AttributeError(
            f"wandb.{name}: runwatch (standing in for wandb under `runwatch exec`) does not "
            "offer it; see the README's \"differs from W&B\" section"
        ) from None


def __dir__() -> list[str]:
    return sorted({*globals(), *logger.__all__, *getattr(logger, "__dir__", list)()})


class _WandbModule(types.ModuleType):
    """`wandb.config = {...}` merges into the run's config, as `logger.config = ...` does."""

    def __setattr__(self, key: str, value: Any) -> None:
        if key in _ON_LOGGER:
            setattr(logger, key, value)
            return
        super().__setattr__(key, value)


sys.modules[__name__].__class__ = _WandbModule
