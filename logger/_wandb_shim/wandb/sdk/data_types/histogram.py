"""`wandb.sdk.data_types.histogram.Histogram`, the same class as `wandb.Histogram`."""

from logger.media import Histogram

__all__ = ["Histogram"]
