"""`wandb.apis.public`: the Public API's classes, read from the local root."""

from logger.api import Api, Run, Runs
from logger.artifacts import Artifact

__all__ = ["Api", "Artifact", "Run", "Runs"]
