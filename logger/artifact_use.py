"""Artifacts in use: `use_artifact`, `link_artifact`, `log_model`/`use_model`, and lineage.

A use is recorded in the artifact's own store, one file per (version, run), created once by
the run that used it (one writer, never rewritten):

    ROOT/<project>/artifacts/<name>/uses/v<N>/<run project>~<run id>.json

so `artifact.used_by()` lists a directory and `run.used_artifacts()` looks for its own name.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .artifact_store import (
    ArtifactError,
    list_artifact_names,
    object_path,
    record_use,
    store_artifact,
    store_dir,
)
from .artifacts import Artifact, load_artifact
from .compat import make_artifact_name_safe
from .paths import check_component

if TYPE_CHECKING:
    from .run import Run


def parse_ref(ref: str, default_project: str) -> tuple[str, str, str]:
    """(project, name, alias) of "name", "name:alias", "project/name:alias" or
    "entity/project/name:alias" (the entity has no local meaning and is dropped)."""
    if not isinstance(ref, str) or not ref.strip("/"):
        raise TypeError(f"use_artifact takes 'name:alias' or an Artifact, not {ref!r}")
    parts = ref.strip("/").split("/")
    path, _, alias = parts[-1].partition(":")
    project = parts[-2] if len(parts) >= 2 else default_project
    return project, path, alias or "latest"


def use_artifact(run: Run, ref: str | Artifact, type: str | None = None,
                 aliases: Sequence[str] | None = None) -> Artifact:
    """The artifact `ref` names, resolved under the run's root; the use is recorded."""
    if isinstance(ref, Artifact):
        art = ref
        if art._manifest is None:  # built here and never logged: W&B logs it as an input
            logged = run.log_artifact(art, aliases=aliases)
            if logged is None or logged._manifest is None:
                raise ArtifactError(f"artifact {art.name!r} could not be stored, so it cannot be used")
            art = logged
    else:
        project, name, alias = parse_ref(ref, run.project)
        art = load_artifact(run._root, project, name, alias)
    if type is not None and art.type != type:
        raise ArtifactError(f"artifact {art.qualified_name} has type {art.type!r}, not {type!r}")
    try:
        record_use(art, run.project, run.id)
    except OSError as exc:
        run._warn_once(f"artifact-use:{art.name}",
                       f"runwatch: could not record that this run used {art.qualified_name}: {exc}")
    return art


def _store_of(art: Artifact) -> Path:
    if art._store is None or art.version is None:
        raise ArtifactError(f"artifact {art.name!r} has not been logged or read back")
    return art._store


def used_by_run(root: Path, project: str, run_id: str) -> list[Artifact]:
    """Every artifact version the run used, in any project under the root."""
    out = []
    mark = f"{project}~{run_id}.json"
    try:
        projects = sorted(p.name for p in root.iterdir() if (p / "artifacts").is_dir())
    except OSError:
        return []
    for art_project in projects:
        for name in list_artifact_names(root, art_project):
            uses = store_dir(root, art_project) / name / "uses"
            try:
                versions = sorted(v.name for v in uses.iterdir() if (v / mark).exists())
            except OSError:
                continue
            for version in versions:
                try:
                    out.append(load_artifact(root, art_project, name, version))
                except ArtifactError:
                    continue
    return out


def link_artifact(run: Run, art: Artifact, target_path: str,
                  aliases: Sequence[str] | None = None) -> Artifact:
    """Put the same content under another name ("[entity/][project/]name"), as W&B's
    registry links do: one stored copy, a version of the target that names it."""
    if art._manifest is None:
        logged = run.log_artifact(art)
        if logged is None or logged._manifest is None:
            raise ArtifactError(f"artifact {art.name!r} could not be stored, so it cannot be linked")
        art = logged
    project, name, _ = parse_ref(target_path, run.project)
    check_component("link target", name)
    copy = Artifact(name, art.type, art.description, dict(art.metadata))
    source = _store_of(art)
    for entry, info in art._manifest["files"].items():  # type: ignore[index]
        copy._entries[entry] = object_path(source, info["digest"])
    copy._references = dict(art._manifest.get("references", {}))  # type: ignore[union-attr]
    store_artifact(run._root, project, copy, list(aliases or []), run.id)
    return copy


def log_model(run: Run, path: str | os.PathLike[str], name: str | None = None,
              aliases: Sequence[str] | None = None) -> Artifact | None:
    """A file or directory as a `model` artifact (default name: run-<id>-<file name>)."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"log_model: {p} does not exist")
    name = name or make_artifact_name_safe(f"run-{run.id}-{p.resolve().name}")
    return run.log_artifact(p, name=name, type="model", aliases=aliases)


def use_model(run: Run, name: str) -> str:
    """Use a `model` artifact and return the local path of its file (or directory)."""
    art = use_artifact(run, name)
    if art.type != "model":
        raise ArtifactError(f"use_model: {art.qualified_name} has type {art.type!r}, not 'model'")
    dest = art.download()
    files = [p for p in Path(dest).rglob("*") if p.is_file()]
    return str(files[0]) if len(files) == 1 else dest
