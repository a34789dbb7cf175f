"""`wandb.sdk.data_types.base_types.wb_value.WBValue`: W&B's base of every logged value type."""

from logger.media.base import Media as WBValue

__all__ = ["WBValue"]
