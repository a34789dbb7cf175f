"""W&B's `wandb.errors`: `except wandb.errors.CommError:` works under `import logger as wandb`."""

from __future__ import annotations

from typing import Any

__all__ = ["CommError", "Error", "UsageError"]


class Error(Exception):
    """W&B's `wandb.Error` (and `wandb.errors.Error`): the base of what the SDK raises."""

    def __init__(self, message: str = "", context: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.context = context


class CommError(Error):
    """W&B's error for a failed call to its server; runwatch has none, so it is never raised."""

    def __init__(self, message: str = "", exc: BaseException | None = None) -> None:
        super().__init__(message)
        self.exc = exc


class UsageError(Error):
    """A call the SDK cannot make sense of (W&B's `wandb.errors.UsageError`)."""

__all__ = ["CommError", "Error", "UsageError"]
