"""`wandb.sdk.wandb_run.Run`, the same class as `wandb.wandb_run.Run`."""

from logger import Run

__all__ = ["Run"]
