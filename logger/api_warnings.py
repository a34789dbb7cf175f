"""What a run read back warns of as the Api builds it (logger/api.py): damage passed over,
rows past 64-bit steps, a segment it could not read, writers that logged the same steps.
Each says what was skipped and that the rest reads normally; names are escaped."""

from __future__ import annotations

import os
import sys
import warnings
from types import FrameType

from .damage import skipped_said
from .rundata import RunData
from .textsafe import safe_text
from .writer import RunwatchWarning

__all__ = ["warn_overlaps", "warn_read", "warn_skipped"]


def warn_read(data: RunData) -> None:
    """The run's damage, dropped rows and unreadable files (no scan: "at least N" damaged
    frames where damage before a snapshot is not counted yet)."""
    where, stacklevel = safe_text(data.path), _callers_level()  # the name escaped before it reaches a terminal
    if data.skipped_frames:
        warnings.warn(f"run {where}: {skipped_said(data)}; the rest of the run reads normally",
                      RunwatchWarning, stacklevel=stacklevel)
    if data.dropped_rows:
        warnings.warn(f"run {where}: {data.dropped_rows} row(s) with a step outside 64 bits were "
                      "skipped; the rest of the run reads normally", RunwatchWarning, stacklevel=stacklevel)
    for error in data.errors:
        warnings.warn(f"run {where}: {safe_text(str(error))}", RunwatchWarning, stacklevel=stacklevel)


def warn_skipped(run_path: str, frames: int) -> None:
    """That a read of a run's rows passed over damaged frames (their rows are not in it), in
    tail's words; the script's loop named as where."""
    warnings.warn(f"run {safe_text(run_path)}: {frames} damaged frame(s) skipped while reading its rows; "
                  "the rest of the run reads normally", RunwatchWarning, stacklevel=_callers_level())


def warn_overlaps(data: RunData) -> None:
    """That several writers logged the same keys at some steps (rows read only where two
    writers' steps meet: RunData.overlaps)."""
    overlaps, stacklevel = data.overlaps, _callers_level()
    if overlaps:
        warnings.warn(
            f"run {safe_text(data.path)}: {len(data.writers)} writers logged the same keys at {overlaps} "
            "step(s); history() shows the last writer's value at each (writers are ordered by "
            "resume, then segment name); run.writers lists them, and history(writer=...) or "
            "scan_history(writer=...) reads each one's own rows", RunwatchWarning, stacklevel=stacklevel)


_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def _callers_level() -> int:
    """The stacklevel, for a warn_* caller's warnings.warn, of the first frame outside this
    package: the script's line, however many of ours lie between (Run() in a comprehension
    of runs(), or in run()); Python 3.12's `skip_file_prefixes`, by hand."""
    frame: FrameType | None = sys._getframe(2)
    level = 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE + os.sep):
        frame, level = frame.f_back, level + 1
    return level
