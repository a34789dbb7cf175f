"""`wandb.integration`: framework callbacks (only Keras's are W&B's own; others ship with the framework)."""
