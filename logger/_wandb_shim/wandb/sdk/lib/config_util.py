"""`wandb.sdk.lib.config_util.ConfigError`: raised when a config value changes without leave."""

from logger import ConfigError

__all__ = ["ConfigError"]
