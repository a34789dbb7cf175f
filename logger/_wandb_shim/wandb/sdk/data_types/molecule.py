"""`wandb.sdk.data_types.molecule.Molecule`, the same class as `wandb.Molecule`."""

from logger.media import Molecule

__all__ = ["Molecule"]
