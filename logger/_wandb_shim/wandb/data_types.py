"""`wandb.data_types`: W&B's media classes (`from wandb.data_types import Image`), from logger.media.

W&B's base classes `WBValue` and `Media` are runwatch's `Media`, so isinstance checks hold.
"""

from __future__ import annotations

from typing import Any

from logger.media.base import Media
from logger.media.files import Audio, Html, Molecule, Object3D, Plotly, Video
from logger.media.histogram import Histogram
from logger.media.image import Classes, Image
from logger.media.table import Table

from ._missing import missing

WBValue = Media

__all__ = ["Audio", "Classes", "Histogram", "Html", "Image", "Media", "Molecule", "Object3D", "Plotly",
           "Table", "Video", "WBValue"]


def __getattr__(name: str) -> Any:
    raise missing(__name__, name)
