"""`mode="disabled"`: every call is a cheap no-op that still returns usable objects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .config import Config, Summary


class DisabledRun:
    """Looks like a Run; records nothing. config and summary still hold values for the script."""

    def __init__(self, project: str, name: str | None, config: dict[str, Any]) -> None:
        self.project = project
        self.name = name or "disabled"
        self.id = "disabled"
        self.notes: str | None = None
        self.tags: tuple[str, ...] = ()
        self.group: str | None = None
        self.job_type: str | None = None
        self.step = 0
        self.dir = ""
        self.path = f"{project}/disabled"
        self.disabled = True
        self.config = Config(None, allow_val_change=True)
        self.config.update(config)
        self.summary = Summary({}, lambda values, removed: None)

    def log(self, data: dict[str, Any], step: int | None = None, commit: bool | None = None) -> None:
        if step is not None:
            self.step = step
        elif commit is not False:
            self.step += 1

    def define_metric(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def save(self, *args: Any, **kwargs: Any) -> list[str]:
        return []

    def log_artifact(self, artifact_or_path: Any, name: str | None = None, type: str | None = None,
                     aliases: Sequence[str] | None = None) -> Any:
        return artifact_or_path

    def alert(self, *args: Any, **kwargs: Any) -> None:
        return None

    def finish(self, exit_code: int | None = None, quiet: bool | None = None) -> None:
        from . import sdk

        if sdk._module().run is self:
            sdk._reset_module()

    def __enter__(self) -> DisabledRun:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.finish()

    # -- what integrations call on any run (HF: _label, Lightning: watch): harmless here -----
    url = entity = sweep_id = None

    def _label(self, *args: Any, **kwargs: Any) -> None:
        return None

    def watch(self, *args: Any, **kwargs: Any) -> None:
        return None

    unwatch = join = get_url = watch

    def use_artifact(self, artifact_or_name: Any, *args: Any, **kwargs: Any) -> Any:
        return artifact_or_name  # nothing is resolved or recorded, as W&B's disabled mode

    link_artifact = log_model = use_artifact
