"""W&B's media and structured values: stored as files under the run, referenced from history.

Loaded on first use (`logger.Image`, or a row holding media): `import logger` stays stdlib +
msgspec, and NumPy, PIL, matplotlib or plotly are touched only when the object logged is one
of theirs.
"""

from __future__ import annotations

from .alerts import AlertLevel, alert
from .base import Media
from .convert import convert_row, is_media
from .files import Audio, Html, Molecule, Object3D, Plotly, Video
from .histogram import Histogram
from .image import Image
from .readback import describe, format_alert
from .table import Table

__all__ = [
    "AlertLevel", "Audio", "Histogram", "Html", "Image", "Media", "Molecule", "Object3D", "Plotly",
    "Table", "Video", "alert", "convert_row", "describe", "format_alert", "is_media",
]
