"""`wandb.apis.PublicApi` / `wandb.apis.public.Api`: runwatch's local `logger.Api`."""

from logger.api import Api as PublicApi

from . import public

__all__ = ["PublicApi", "public"]
