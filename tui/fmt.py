"""Formatting shared by the app and the headless commands (no Textual here)."""

from __future__ import annotations


def fmt_duration(seconds: float) -> str:
    """12s, 3m05s, 4h02m, 2d03h: compact, and sortable by eye."""
    s = int(max(0.0, seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"
