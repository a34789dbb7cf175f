"""runwatch's logger: W&B's calls, written to local append-only event files.

    import logger as wandb
    run = wandb.init(project="cat-classification", config={"lr": 1e-3})
    wandb.log({"loss": 0.3})
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from . import clock as _clock  # noqa: F401 - the event clock's base is taken now, beside run.py's
from .compat import *  # noqa: F403
from .compat import (
    __all__ as _compat_names,  # W&B's smaller calls: errors, termlog, use_artifact, util
)
from .config import Config, ConfigError, Summary
from .disabled import DisabledRun
from .run import Run, RunFinishedError
from .sdk import (
    RunwatchError,
    Settings,
    _Unavailable,
    define_metric,
    finish,
    init,
    log,
    log_artifact,
    login,
    save,
    set_module_config,
    unwatch,
    watch,
)
from .writer import RunwatchWarning

__version__ = "0.1.0"

run: Run | DisabledRun | None = None
config: Any = _Unavailable("config")
summary: Any = _Unavailable("summary")

__all__ = [
    "Api", "Artifact", "Config", "ConfigError", "DisabledRun", "Run", "RunFinishedError",
    "RunwatchError", "RunwatchWarning", "Settings", "Summary", "config", "define_metric",
    "finish", "init", "log", "log_artifact", "login", "run", "save", "summary", "unwatch", "watch",
    "AlertLevel", "Audio", "Classes", "Histogram", "Html", "Image", "Molecule", "Object3D", "Plotly", "Table",
    "Video", "alert", "plot", "plot_table", "sklearn", "visualize",
]
__all__ += _compat_names


_MEDIA_NAMES = frozenset(("Image", "Classes", "Table", "Histogram", "Audio", "Video", "Html", "Object3D",
                          "Molecule", "Plotly", "AlertLevel", "alert", "plot", "sklearn",
                          "plot_table", "visualize"))


def __getattr__(name: str) -> Any:
    """The reading side loads on first use: a training script that only logs never pays for it
    (`import logger` stays within 2.5x of `import msgspec`)."""
    if name == "Api":
        from .api import Api

        return Api
    if name in ("sweep", "agent"):  # sweeps load only when used (logger/sweeps/)
        from . import sweeps

        return getattr(sweeps, name)
    if name == "Artifact":
        from .artifacts import Artifact

        return Artifact
    if name in _MEDIA_NAMES:  # W&B's media types, loaded when a script first names one
        import importlib

        if name in ("plot", "sklearn"):
            return importlib.import_module(f".media.{name}", __name__)
        if name in ("plot_table", "visualize"):  # W&B's top-level wandb.plot_table, wandb.visualize
            return getattr(importlib.import_module(".media.plot", __name__), name)
        return getattr(importlib.import_module(".media", __name__), name)
    raise AttributeError(f"module 'logger' has no attribute {name!r}")


if TYPE_CHECKING:
    from .api import Api
    from .artifacts import Artifact
    from .media import (
        AlertLevel,
        Audio,
        Classes,
        Histogram,
        Html,
        Image,
        Molecule,
        Object3D,
        Plotly,
        Table,
        Video,
        alert,
        plot,
        sklearn,
    )
    from .media.plot import plot_table, visualize


class _LoggerModule(types.ModuleType):
    """`logger.config = {...}` (as in W&B's docs) merges into the run's config instead of
    replacing the Config object, so `logger.config.epochs` keeps working."""

    def __setattr__(self, key: str, value: Any) -> None:
        if key == "config":
            set_module_config(value)
            return
        super().__setattr__(key, value)


sys.modules[__name__].__class__ = _LoggerModule
