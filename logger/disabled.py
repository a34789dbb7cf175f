"""`mode="disabled"`: every call is a cheap no-op that still returns usable objects."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .config import Config, Summary


class DisabledRun:
    """Looks like a Run; records nothing. Its name, tags and config are what init was given,
    and config changes are checked as a real run checks them (W&B's disabled mode does both)."""

    def __init__(self, project: str, name: str | None, config: dict[str, Any],
                 tags: Sequence[str] = (), notes: str | None = None, group: str | None = None,
                 job_type: str | None = None, allow_val_change: bool = False,
                 on_finish: Callable[[DisabledRun], None] | None = None) -> None:
        self.project = project
        self.name = name or "disabled"
        self.id = "disabled"
        self.notes = notes
        self.tags: tuple[str, ...] = tuple(tags)
        self.group = group
        self.job_type = job_type
        self.step = 0
        self.dir = ""
        self.path = f"{project}/disabled"
        self.disabled = True
        self.config = Config(None, allow_val_change=allow_val_change, initial=config)
        self.summary = Summary({}, lambda values, removed: None)
        self._on_finish = on_finish

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
        if self._on_finish is not None:
            self._on_finish(self)

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
