"""`wandb.sdk.data_types.audio.Audio`, the same class as `wandb.Audio`."""

from logger.media import Audio

__all__ = ["Audio"]
