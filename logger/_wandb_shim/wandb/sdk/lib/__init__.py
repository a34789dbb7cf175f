"""`wandb.sdk.lib`: `RunDisabled` is what `init(mode="disabled")` returns."""

from logger import DisabledRun as RunDisabled

from . import config_util

__all__ = ["RunDisabled", "config_util"]
