"""What the store's first pass reads, and how much at once: the run directories and segments
under a root (logger/discover.py's walk), and the bytes per segment a read may take."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from logger import discover

__all__ = ["FIRST_LIMIT", "MIN_BYTES", "PASS_BYTES", "read_limit", "run_dirs", "segment_paths"]

FIRST_LIMIT = 8 * 1024 * 1024  # bytes per segment in the first pass at most: past its last
# snapshot (one every 4 MiB, logger/snapshot.py) a segment's digests are exact; a longer
# stretch, or one without a snapshot (an old format), is finished by read_rest
PASS_BYTES = 4 * 1024 * 1024  # ...and per read over all its segments: a read's decoded
# events live until published (~10x their bytes), so a batch of runs without snapshots must
# not decode them whole at once (64 segments x 8 MiB was GBs)
MIN_BYTES = 64 * 1024  # per segment and read, at least


def read_limit(segments: int) -> int:
    """Bytes per segment for one read of `segments` segments: PASS_BYTES over them."""
    return min(FIRST_LIMIT, max(MIN_BYTES, PASS_BYTES // max(1, segments)))


def run_dirs(root: Path) -> list[str]:
    """ROOT/<project>/<run> directories (logger/discover.py's walk)."""
    return [run_dir.path for _project, run_dir in discover.run_dirs(root)]


def segment_paths(root: Path, dirs: Iterable[str] | None = None) -> list[Path]:
    """The segments under root (ROOT/<project>/<run>/*.rws), or in `dirs` of them, for the
    batched first pass: the readers' one discovery (logger/discover.py: only regular files)."""
    found: list[Path] = []
    for run in run_dirs(root) if dirs is None else dirs:
        found += discover.segment_files(run)
    return found
