"""`wandb.sdk.data_types.video.Video`, the same class as `wandb.Video`."""

from logger.media import Video

__all__ = ["Video"]
