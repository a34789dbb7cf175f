"""`wandb.sdk`: what integrations reach for under it."""

from . import lib, wandb_run
from .wandb_run import Run

__all__ = ["Run", "lib", "wandb_run"]
