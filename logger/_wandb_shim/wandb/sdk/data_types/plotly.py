"""`wandb.sdk.data_types.plotly.Plotly`, the same class as `wandb.Plotly`."""

from logger.media import Plotly

__all__ = ["Plotly"]
