"""`wandb.sdk.data_types.html.Html`, the same class as `wandb.Html`."""

from logger.media import Html

__all__ = ["Html"]
