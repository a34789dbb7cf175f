"""`wandb.errors`: the exception classes W&B scripts catch."""

from logger.errors import CommError, Error, UsageError

__all__ = ["CommError", "Error", "UsageError"]
