"""`wandb.sdk`: what integrations reach for under it."""

from __future__ import annotations

from typing import Any

from . import lib, wandb_run
from .wandb_run import Run

__all__ = ["Run", "data_types", "lib", "wandb_run"]


def __getattr__(name: str) -> Any:
    if name == "data_types":  # loaded when first named: the media classes load with it
        import importlib

        return importlib.import_module(f"{__name__}.data_types")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
