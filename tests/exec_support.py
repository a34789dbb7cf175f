"""Helpers for the `runwatch exec` tests: a script run for real under exec (or plainly).

(No tests here.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_SCRUB = ("RUNWATCH_DIR", "RUNWATCH_MODE", "RUNWATCH_EXEC", "RUNWATCH_SWEEP_ID")


def child_env(**extra: str) -> dict[str, str]:
    """The test's environment without runwatch's or W&B's settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_") and k not in _SCRUB}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env["HF_HUB_OFFLINE"] = "1"
    env["TRANSFORMERS_OFFLINE"] = "1"
    env["TOKENIZERS_PARALLELISM"] = "false"
    env.update(extra)
    return env


def run_script(tmp_path: Path, source: str, *args: str, exec_: bool = True, timeout: float = 120,
               name: str = "script.py", **env: str) -> subprocess.CompletedProcess[str]:
    """Write `source` to tmp_path/name and run it in tmp_path: under `runwatch exec` unless
    exec_=False. Output is captured as text; the caller checks the exit code."""
    script = tmp_path / name
    script.write_text(textwrap.dedent(source))
    cmd = [sys.executable, str(script), *args]
    if exec_:
        cmd = [sys.executable, "-m", "tui", "exec", "--", *cmd]
    return subprocess.run(cmd, cwd=tmp_path, env=child_env(**env), capture_output=True, text=True,
                          timeout=timeout)


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    """The stdout of a process that must have succeeded (else its output, for the failure)."""
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc.stdout
