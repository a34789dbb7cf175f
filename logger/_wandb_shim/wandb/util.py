"""`wandb.util`: the helpers scripts import from it."""

from logger.compat import generate_id, get_module, make_artifact_name_safe, to_forward_slash_path

__all__ = ["generate_id", "get_module", "make_artifact_name_safe", "to_forward_slash_path"]
