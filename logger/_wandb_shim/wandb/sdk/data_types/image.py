"""`wandb.sdk.data_types.image.Image`, the same class as `wandb.Image`."""

from logger.media import Image

__all__ = ["Image"]
