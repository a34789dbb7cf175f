"""W&B's media and structured values: stored as files under the run, referenced from history.

Loaded on first use (`logger.Image`, or a row holding media), and each module only when a
name from it is asked for: `import logger` stays stdlib + msgspec, readers that only need
`readback` do not load the writers, and NumPy, PIL, matplotlib or plotly are touched only
when the object logged is one of theirs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {
    "AlertLevel": "alerts", "alert": "alerts", "Media": "base", "convert_row": "convert",
    "is_media": "convert", "Audio": "files", "Html": "files", "Molecule": "files",
    "Object3D": "files", "Plotly": "files", "Video": "files", "Histogram": "histogram",
    "Image": "image", "Classes": "image", "describe": "readback", "format_alert": "readback", "Table": "table",
}
__all__ = [
    "AlertLevel", "Audio", "Classes", "Histogram", "Html", "Image", "Media", "Molecule", "Object3D", "Plotly",
    "Table", "Video", "alert", "convert_row", "describe", "format_alert", "is_media",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'logger.media' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


if TYPE_CHECKING:
    from .alerts import AlertLevel, alert
    from .base import Media
    from .convert import convert_row, is_media
    from .files import Audio, Html, Molecule, Object3D, Plotly, Video
    from .histogram import Histogram
    from .image import Classes, Image
    from .readback import describe, format_alert
    from .table import Table
