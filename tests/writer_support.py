"""Roots of runs written by the real logger in a process of its own: a script run as
`python -c SCRIPT ROOT` (the tail and export speed tests each write one per module)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .test_cli_support import REPO, env

__all__ = ["written_root"]


def written_root(tmp_path_factory: pytest.TempPathFactory, name: str, script: str) -> Path:
    """ROOT (a fresh `runs` folder) after `script` wrote its runs there."""
    root = tmp_path_factory.mktemp(name) / "runs"
    subprocess.run([sys.executable, "-c", script, str(root)], cwd=REPO, env=env(), check=True, timeout=60)
    return root
