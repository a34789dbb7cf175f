"""The corners of W&B's Public API a script reaches for, with a local meaning (logger/api.py):
a run's user, heartbeat and last system sample, a project, and an artifact's versions.

W&B answers these from its server; here each is read from what the run's segments and the
artifact store already hold, so no extra file is read to answer any of them.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path
from typing import Any

from .artifact_store import ArtifactError, store_dir
from .artifacts import Artifact, load_artifact
from .paths import check_component, entity_refusal

__all__ = ["Project", "RunCorners", "User", "artifact_versions", "iso_utc",
           "last_system_sample", "parse_run_path", "read_run_at", "run_path_readings"]

_VERSION_FILE = re.compile(r"^v(\d+)\.json$")


def iso_utc(stamp: float | None) -> str:
    """A time as W&B's API gives its times (ISO 8601, UTC); "" for one no clock could write."""
    if stamp is None:
        return ""
    try:
        when = _dt.datetime.fromtimestamp(stamp, _dt.timezone.utc)
    except (ValueError, OverflowError, OSError):
        return ""
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def last_system_sample(sample: Any, created_at: float) -> dict[str, Any]:
    """W&B's `run.system_metrics`: the latest system sample as one row of the "system" stream
    (`system.`-prefixed keys, `_timestamp`, `_runtime`), the same row history(stream="system")
    ends with; {} for a run that sampled nothing (W&B's empty systemMetrics)."""
    values = getattr(sample, "values", None)
    if not isinstance(values, dict):
        return {}
    runtime = sample.time - created_at
    row: dict[str, Any] = {f"system.{k}": v for k, v in values.items()}
    row.update(_wandb={"runtime": runtime}, _timestamp=sample.time, _runtime=runtime)
    return row


def parse_run_path(path: str, entity: str, project: str | None) -> tuple[str, str, str]:
    """(entity, project, run_id) from the paths W&B's `api.run()` takes (its `_parse_path`):
    "entity/project/id", "entity/project/runs/id" (a URL's), "entity/project:id", "project/id",
    "project:id", or "id" when `project` (Api's overrides, $WANDB_PROJECT) says which. The
    entity is checked by the caller (entity_refusal): only a run logged with one has one."""
    given = path
    parts = path.replace("/runs/", "/").replace("/sweeps/", "/").strip("/ ").split("/")
    run_id: str | None = None
    if len(parts) == 3:
        entity, project, run_id = parts
    elif len(parts) == 2 and ":" in parts[1]:
        entity = parts[0]
        project, run_id = parts[1].split(":", 1)
    elif len(parts) == 2:
        project, run_id = parts
    elif len(parts) == 1 and ":" in parts[0]:
        project, run_id = parts[0].split(":", 1)
    elif len(parts) == 1:
        run_id = parts[0]
    entity, project, run_id = entity.strip(), (project or "").strip(), (run_id or "").strip()
    if not project:
        raise ValueError(f"run path {given!r}: use 'project/run_id' or 'entity/project/run_id' "
                         "(or set Api(overrides={'project': ...}))")
    if not run_id:
        raise ValueError(f"run path {given!r}: use 'project/run_id' or 'entity/project/run_id'")
    return entity, project, run_id


def run_path_readings(path: str, project: str | None) -> list[tuple[str, str, str]]:
    """The (entity, project, run_id) `path` can name, to try in order: W&B's reading last, and
    before it "entity/runs/id" read literally, as run.path writes a run of a project named
    "runs" (W&B's reading drops "/runs/" and would look in project "entity"). The entity is
    "" where the path names none."""
    readings = [parse_run_path(path, "", project)]
    parts = path.strip("/ ").split("/")
    if len(parts) == 3 and parts[1] == "runs" and all(p.strip() for p in parts):
        readings.insert(0, (parts[0].strip(), "runs", parts[2].strip()))
    return readings


def read_run_at(root: Path, path: str, default_project: str | None) -> Any:
    """Api.run's RunData: the first reading of `path` found, read from its own files alone,
    whose entity matches (entity_refusal); else a ValueError naming what was asked (and, for a
    run of another entity, the entity it has)."""
    from .reader import RootReader

    readings = run_path_readings(path, default_project)
    # A listing's reader, as runs() has: summary, config and state from the snapshots (or the
    # index cache), rows read when history is asked for (a 1M-step run: ~10 ms, not seconds and a GB)
    reader = RootReader(root, meta=True)
    reader.read_paths([root / project / run_id for _entity, project, run_id in readings])
    refused = None
    for entity, project, run_id in readings:
        data = reader.runs.get(f"{project}/{run_id}")
        if data is not None:
            refused = entity_refusal(entity, data.entity, data.path)
            if refused is None:
                return data
    raise ValueError(refused or f"no run {'/'.join(readings[-1][1:])} under {root}")


class RunCorners:
    """What W&B's Run has beside its data, for logger/api.py's Run (which sets `_data`,
    `_root`, `project` and `sweep_id`): answers that agree with the script-side run's."""

    _data: Any
    _root: Any
    project: str
    id: str

    @property
    def path(self) -> list[str]:
        """W&B's `[entity, project, run_id]`: "/".join(run.path) is the script-side run.path."""
        return [self.entity, self.project, self.id]

    @property
    def sweep_id(self) -> str | None:
        raise NotImplementedError  # logger/api.py's Run says which sweep (if any) ran it (and `sweep`)

    @property
    def heartbeat_at(self) -> str:
        """When the run last wrote anything (an event or its writer's 10 s heartbeat), as
        created_at is written: W&B's last heartbeat from the run's process."""
        return iso_utc(self._data.updated_at or self._data.created_at)

    @property
    def system_metrics(self) -> dict[str, Any]:
        """The latest system sample as W&B gives it (last_system_sample); {} if none."""
        return last_system_sample(self._data.extras.get("system"), self._data.created_at)

    @property
    def entity(self) -> str:
        """The entity the run was logged with, else the local user, as the script-side
        `run.entity` says (no accounts here)."""
        from .compat import local_entity

        return self._data.entity or local_entity()

    user = property(lambda self: User(self.entity), doc="W&B's User who created the run: the local one")

    @property
    def username(self) -> str:
        """W&B's deprecated name for `entity`: its warning, then the entity."""
        from .compat import termwarn

        termwarn("Run.username is deprecated. Please use Run.entity instead.")
        return self.entity

    @property
    def url(self) -> str:
        """The file:// URL of the run's directory: what the script-side `run.url` gave."""
        return self._data.dir.resolve().as_uri()

    sweep_name = property(lambda self: self.sweep_id, doc="W&B's name for the run's sweep id")


class User:
    """W&B's `run.user`: who created the run. No accounts here: the local user (the name
    `run.entity` gives), with W&B's `name` and `username` attributes."""

    def __init__(self, username: str) -> None:
        self._attrs = {"name": username, "username": username}
        self.name = self.username = username

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class Project:
    """W&B's `Project`: `name`, `entity`, `path` ([entity, name]), `url` (a file:// URL of the
    project's directory, as the script-side `run.get_project_url()` gives)."""

    def __init__(self, name: str, root: Path, entity: str) -> None:
        self.name, self.entity = name, entity
        self.dir = Path(root) / name

    @property
    def path(self) -> list[str]:
        return [self.entity, self.name]

    @property
    def url(self) -> str:
        return self.dir.resolve().as_uri()

    def __repr__(self) -> str:
        return f"<Project {self.entity}/{self.name}>"


def artifact_versions(root: Path, name: str, type_name: str, order: str | None = None,
                      tags: Any = None) -> list[Artifact]:
    """W&B's `api.artifacts(type_name, "project/name")`: every readable version, newest first
    (an `order` starting with "+" gives oldest first). A damaged version is skipped, as W&B
    lists only committed ones; no version of that type raises, as W&B's query fails."""
    parts = [p for p in name.strip("/").split("/") if p]
    if len(parts) < 2:
        raise ArtifactError(f"artifacts(): name {name!r}: use 'project/name' (or 'entity/project/name')")
    project, collection = parts[-2], parts[-1].partition(":")[0]
    try:
        check_component("project", project)
        check_component("artifact name", collection)
        files = list((store_dir(root, project) / collection).iterdir())
    except (TypeError, ValueError) as exc:
        raise ArtifactError(str(exc)) from None
    except OSError:
        files = []
    numbers = sorted((int(m.group(1)) for p in files if (m := _VERSION_FILE.match(p.name))),
                     reverse=not (order or "").startswith("+"))
    found = []
    for number in numbers:
        try:
            found.append(load_artifact(root, project, collection, f"v{number}"))
        except ArtifactError:
            continue
    wanted = set([tags] if isinstance(tags, str) else tags or ())
    out = [a for a in found if a.type == type_name and wanted <= set(getattr(a, "tags", ()) or ())]
    if not any(a.type == type_name for a in found):
        kinds = sorted({a.type for a in found})
        have = f"; it has type {', '.join(map(repr, kinds))}" if kinds else ""
        raise ArtifactError(f"no artifact {project}/{collection} of type {type_name!r} under {root}{have}")
    return out
