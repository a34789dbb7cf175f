"""The error a W&B name runwatch does not offer gives, naming it and where to look."""

from __future__ import annotations


def missing(module: str, name: str) -> AttributeError:
    return AttributeError(
        f"{module}.{name}: runwatch (standing in for wandb under `runwatch exec`) does not offer it; "
        "see the README's \"differs from W&B\" section")
