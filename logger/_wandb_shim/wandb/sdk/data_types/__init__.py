"""`wandb.sdk.data_types`: where W&B defines its media classes, one submodule each
(`from wandb.sdk.data_types.image import Image`); the classes are logger.media's."""

from __future__ import annotations

from typing import Any

from ..._missing import missing

__all__ = ["audio", "base_types", "histogram", "html", "image", "molecule", "object_3d", "plotly", "table",
           "video"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise missing(__name__, name)
