"""`wandb.sdk.data_types.base_types.media.Media`: the base class of every media type."""

from logger.media.base import Media

__all__ = ["Media"]
