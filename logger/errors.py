"""W&B's `wandb.errors`: `except wandb.errors.CommError:` works under `import logger as wandb`."""

from .compat import CommError, Error, UsageError

__all__ = ["CommError", "Error", "UsageError"]
