"""`wandb.sdk.data_types.object_3d.Object3D`, the same class as `wandb.Object3D`."""

from logger.media import Object3D

__all__ = ["Object3D"]
