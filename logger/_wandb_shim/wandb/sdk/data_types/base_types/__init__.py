"""`wandb.sdk.data_types.base_types`: W&B's media base classes (`Media`, `WBValue`)."""

from . import media, wb_value

__all__ = ["media", "wb_value"]
