"""Roots of runs written by the real logger in a process of its own: a script run as
`python -c SCRIPT ROOT` (the tail and export speed tests each write one per module), and the
count of frame bytes the readers decode (how many passes a command makes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .test_cli_support import REPO, env

__all__ = ["decoded_bytes", "written_root"]


def written_root(tmp_path_factory: pytest.TempPathFactory, name: str, script: str) -> Path:
    """ROOT (a fresh `runs` folder) after `script` wrote its runs there."""
    root = tmp_path_factory.mktemp(name) / "runs"
    subprocess.run([sys.executable, "-c", script, str(root)], cwd=REPO, env=env(), check=True, timeout=60)
    return root


def decoded_bytes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """[bytes of frames decoded so far], counted from now on, with the index cache off (a
    cached read decodes nothing)."""
    from logger import damage, history_frames, segment

    decoded = [0]
    real = segment.clean_frames

    def counting(data: Any, decode: Any) -> tuple[list[Any], int]:
        events, used = real(data, decode)
        if decode is not damage.frame_check:  # checks frames before a snapshot, decodes none
            decoded[0] += used
        return events, used

    monkeypatch.setattr(segment, "clean_frames", counting)
    monkeypatch.setattr(history_frames, "clean_frames", counting)
    monkeypatch.setenv("RUNWATCH_CACHE", "0")
    return decoded
