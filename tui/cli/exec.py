"""`runwatch exec -- CMD ...`: run unmodified code with `import wandb` answered by runwatch.

CMD replaces this process (exec), so its exit code, signals and terminal are its own. It
and every process it starts (DDP ranks, DataLoader workers, torchrun's children) inherit a
PYTHONPATH whose first entry holds runwatch's `wandb` package and an installed-distribution
record for it (logger/_wandb_shim/). Without `runwatch exec` nothing changes: a real wandb
in the same environment is never shadowed. No Textual import here.
"""

from __future__ import annotations

import argparse
import os
from typing import TextIO

from .common import CliError
from .parser import Command

EXAMPLES = """\
  runwatch exec -- python train.py --lr 3e-4        HF Trainer, Lightning, Keras: report_to wandb
  runwatch exec -- torchrun --nproc-per-node 2 train.py   every rank inherits it
  RUNWATCH_DIR=/shared/runs runwatch exec -- python train.py   the root wins over a framework's dir"""

DESCRIPTION = """\
Run CMD with `import wandb` resolved to runwatch, for frameworks and scripts that import
wandb themselves. Runs land where `runwatch` looks by default (./runs, or $RUNWATCH_DIR,
which here wins over a framework's dir=). CMD's exit code is runwatch's."""


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD ...",
                   help="the command and its arguments")


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Replace this process with CMD under the shim's environment (returns only on failure)."""
    from logger.wandb_env import exec_environment

    cmd = list(args.cmd)
    if cmd[:1] == ["--"]:
        cmd = cmd[1:]
    if not cmd:
        raise CliError("runwatch exec needs a command, like: runwatch exec -- python train.py")
    env = exec_environment(os.environ)
    try:
        os.execvpe(cmd[0], cmd, env)
    except FileNotFoundError:
        raise CliError(f"runwatch exec: command not found: {cmd[0]!r}", code=127) from None
    except PermissionError:
        raise CliError(f"runwatch exec: {cmd[0]!r} is not executable", code=126) from None
    return 0  # not reached: execvpe returns only by raising


EXEC = Command("exec", "run a command with `import wandb` answered by runwatch", EXAMPLES,
               configure, run, description=DESCRIPTION, output="app")
