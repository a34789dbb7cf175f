"""`wandb.integration.keras`: W&B's Keras 3 callbacks, logging through runwatch.

The classes are built on first use, so importing this module never imports Keras.
`WandbMetricsLogger` logs `epoch/<metric>` (and `batch/<metric>` with `log_freq="batch"`
or a number of batches), as W&B's does; `WandbModelCheckpoint` is Keras's
`ModelCheckpoint` that also logs each saved file as a `model` artifact.
"""

from __future__ import annotations

import glob
import os
from typing import Any

import logger

__all__ = ["WandbCallback", "WandbMetricsLogger", "WandbModelCheckpoint"]
_built: dict[str, type] = {}


def _run() -> Any:
    if logger.run is None:
        raise logger.RunwatchError(
            "wandb.integration.keras callbacks need a run: call wandb.init() before model.fit()")
    return logger.run


def _plain(logs: dict[str, Any] | None) -> dict[str, Any]:
    out = {}
    for key, value in (logs or {}).items():
        try:
            out[key] = float(value)
        except (TypeError, ValueError):
            continue
    return out


def _metrics_logger(keras: Any) -> type:
    class WandbMetricsLogger(keras.callbacks.Callback):
        """Log Keras's metrics each epoch (and every `log_freq` batches)."""

        def __init__(self, log_freq: str | int = "epoch", initial_global_step: int = 0,
                     *args: Any, **kwargs: Any) -> None:
            super().__init__()
            _run()
            self.every = 1 if log_freq == "batch" else (None if log_freq == "epoch" else int(log_freq))
            self.global_batch = 0
            self.global_step = initial_global_step

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            values = {f"epoch/{k}": v for k, v in _plain(logs).items()}
            _run().log({**values, "epoch/epoch": epoch})

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            self.global_step += 1
            if self.every and batch % self.every == 0:
                values = {f"batch/{k}": v for k, v in _plain(logs).items()}
                _run().log({**values, "batch/batch_step": self.global_batch})
                self.global_batch += 1

    return WandbMetricsLogger


def _model_checkpoint(keras: Any) -> type:
    class WandbModelCheckpoint(keras.callbacks.ModelCheckpoint):
        """Keras's ModelCheckpoint; every file it saves is also logged as a `model` artifact."""

        def _save_model(self, *args: Any, **kwargs: Any) -> None:
            before = {p: os.path.getmtime(p) for p in glob.glob(_pattern(self.filepath))}
            super()._save_model(*args, **kwargs)
            for path in glob.glob(_pattern(self.filepath)):
                if before.get(path) != os.path.getmtime(path):
                    run = _run()
                    run.log_artifact(path, name=f"run_{run.id}_model", type="model")

    return WandbModelCheckpoint


def _pattern(filepath: str) -> str:
    import re

    return re.sub(r"\{[^}]*\}", "*", str(filepath))


_BUILDERS = {"WandbMetricsLogger": _metrics_logger, "WandbModelCheckpoint": _model_checkpoint,
             "WandbCallback": _metrics_logger}


def __getattr__(name: str) -> Any:
    if name not in _BUILDERS:
        raise AttributeError(f"wandb.integration.keras has no {name!r} under runwatch")
    if name not in _built:
        import keras  # type: ignore[import-not-found, import-untyped, unused-ignore]

        _built[name] = _BUILDERS[name](keras)
    return _built[name]
