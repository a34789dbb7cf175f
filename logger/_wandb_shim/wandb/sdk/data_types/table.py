"""`wandb.sdk.data_types.table.Table`, the same class as `wandb.Table`."""

from logger.media import Table

__all__ = ["Table"]
