"""`wandb.wandb_run.Run`: runwatch's runs are instances of it (Lightning checks)."""

from logger import Run

__all__ = ["Run"]
