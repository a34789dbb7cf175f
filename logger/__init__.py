"""runwatch's logger: W&B's calls, written to local append-only event files.

    import logger as wandb
    run = wandb.init(project="cat-classification", config={"lr": 1e-3})
    wandb.log({"loss": 0.3})

The SDK (sdk, run, writer, config) loads when a script first names one of its names
(PEP 562), as the reading side does: `import logger.reader` (every `runwatch` command)
never pays for the writer, and a script pays for it once, at its first `logger.init`.
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

__version__ = "0.1.0"

run: Run | DisabledRun | None = None  # the current run (sdk publishes it; None before init)
config: Any  # before init: sdk's _Unavailable (loaded on first use); then the run's Config
summary: Any

__all__ = [
    "Api", "Artifact", "Config", "ConfigError", "DisabledRun", "Run", "RunFinishedError",
    "RunwatchError", "RunwatchWarning", "Settings", "Summary", "config", "define_metric",
    "finish", "init", "log", "log_artifact", "login", "run", "save", "summary", "unwatch", "watch",
    "AlertLevel", "Audio", "Classes", "Histogram", "Html", "Image", "Molecule", "Object3D", "Plotly", "Table",
    "Video", "alert", "plot", "plot_table", "sklearn", "visualize",
]
__all__ += _compat_names

# name -> the submodule that defines it, imported the first time the name is used
_SDK_NAMES = {
    "Config": "config", "ConfigError": "config", "Summary": "config", "DisabledRun": "disabled",
    "Run": "run", "RunFinishedError": "run", "RunwatchWarning": "writer",
    "RunwatchError": "sdk", "Settings": "sdk", "define_metric": "sdk", "finish": "sdk",
    "init": "sdk", "log": "sdk", "log_artifact": "sdk", "login": "sdk", "save": "sdk",
    "set_module_config": "sdk", "unwatch": "sdk", "watch": "sdk",
    "Api": "api", "Artifact": "artifacts", "sweep": "sweeps", "agent": "sweeps",
    "plot_table": "media.plot", "visualize": "media.plot",
}
_MEDIA_NAMES = frozenset(("Image", "Classes", "Table", "Histogram", "Audio", "Video", "Html", "Object3D",
                          "Molecule", "Plotly", "AlertLevel", "alert"))
_SUBMODULE_NAMES = frozenset(("plot", "sklearn"))  # W&B's wandb.plot, wandb.sklearn: modules
_UNSET = ("config", "summary")  # sdk's placeholders until init publishes the run's


def __getattr__(name: str) -> Any:
    """A name of the SDK or the reading side, imported on first use and kept in the module's
    namespace (later uses are plain lookups: `logger.log` in a loop costs what it did)."""
    import importlib

    if name in _SDK_NAMES:
        value = getattr(importlib.import_module(f".{_SDK_NAMES[name]}", __name__), name)
    elif name in _MEDIA_NAMES:  # W&B's media types, loaded when a script first names one
        value = getattr(importlib.import_module(".media", __name__), name)
    elif name in _SUBMODULE_NAMES:
        value = importlib.import_module(f".media.{name}", __name__)
    elif name in _UNSET:  # sdk publishes the run's config/summary here at init
        from .sdk import _Unavailable

        value = _Unavailable(name)
    else:
        raise AttributeError(f"module 'logger' has no attribute {name!r}")
    return globals().setdefault(name, value)  # another thread (or sdk's init) may have set it


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SDK_NAMES})


if TYPE_CHECKING:
    from .api import Api
    from .artifacts import Artifact
    from .config import Config, ConfigError, Summary
    from .disabled import DisabledRun
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
    from .run import Run, RunFinishedError
    from .sdk import (
        RunwatchError,
        Settings,
        define_metric,
        finish,
        init,
        log,
        log_artifact,
        login,
        save,
        unwatch,
        watch,
    )
    from .sdk import (
        set_module_config as set_module_config,  # (`logger.config = ...` uses it)
    )
    from .writer import RunwatchWarning


class _LoggerModule(types.ModuleType):
    """`logger.config = {...}` (as in W&B's docs) merges into the run's config instead of
    replacing the Config object, so `logger.config.epochs` keeps working. And the submodules
    named like SDK attributes (run.py, config.py), imported lazily now, never replace them:
    Python sets `logger.<sub>` to a submodule when it is first imported."""

    def __setattr__(self, key: str, value: Any) -> None:
        if key in ("run", "config") and isinstance(value, types.ModuleType) \
                and value.__name__ == f"{__name__}.{key}":
            return  # the submodule stays reachable as sys.modules["logger.run"]
        if key == "config":
            from .sdk import set_module_config

            set_module_config(value)
            return
        super().__setattr__(key, value)


sys.modules[__name__].__class__ = _LoggerModule
