"""Versioned artifacts: W&B's `Artifact`, logging one with a run, and reading a version back.

Layers: artifact_store.py (layout, content, versions, uses) < references.py < this module
< artifact_use.py (use, link, models, lineage); each imports only the ones below it. Runs
(for lineage) are reached through the package's public surface (toplevel.py).

A version appears only when its manifest is hard-linked into place (after every object it
lists is on disk), and `link` fails if another process took that number first: versions are
allocated without races and never appear half-written. Readers list and copy artifacts; they
never load or unpickle them.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import tempfile
import time
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import events as ev
from .artifact_store import (
    ArtifactError,
    aliases_of,
    latest_version,
    list_artifact_names,
    object_path,
    sha256_file,
    store_artifact,
    store_dir,
    users_of,
)
from .artifact_store import entry_name as _entry_name
from .paths import check_component

if TYPE_CHECKING:
    from .run import Run

__all__ = ["Artifact", "ArtifactError", "list_artifact_names", "load_artifact", "log_artifact", "store_dir"]
_SHA256 = re.compile(r"[0-9a-f]{64}")


class Artifact:
    """A named, typed set of files: W&B's `wandb.Artifact`, stored locally."""

    def __init__(self, name: str, type: str, description: str | None = None,
                 metadata: dict[str, Any] | None = None) -> None:
        self.name = check_component("artifact name", name)
        self.type = check_component("artifact type", type)
        self.description = description
        self.metadata = dict(metadata or {})
        self._entries: dict[str, Path] = {}
        self.version: str | None = None  # "v3" once logged or read back
        self.digest: str | None = None
        self.size = 0
        self.aliases: list[str] = []
        self.project: str | None = None
        self._manifest: dict[str, Any] | None = None
        self._store: Path | None = None
        self._references: dict[str, dict[str, Any]] = {}
        self._staging: Path | None = None

    # -- building ---------------------------------------------------------------------------
    def add_file(self, local_path: str | os.PathLike[str], name: str | None = None,
                 is_tmp: bool = False, skip_cache: bool = False, policy: str = "mutable",
                 overwrite: bool = False) -> Artifact:
        """Add a file. policy="mutable" (W&B's default) copies it now, so later changes to
        the file do not change the artifact; "immutable" reads it when the artifact is logged."""
        path = Path(local_path)
        if not path.is_file():
            raise FileNotFoundError(f"Artifact.add_file: {path} is not a file")
        if policy not in ("mutable", "immutable"):
            raise ValueError(f"add_file(policy={policy!r}): use 'mutable' or 'immutable'")
        entry = _entry_name(name or path.name)
        if policy == "mutable":
            staged = self._stage(entry)
            shutil.copyfile(path, staged)
            path = staged
        self._entries[entry] = path
        return self

    def new_file(self, name: str, mode: str = "x", encoding: str | None = None) -> Any:
        """A file opened for writing inside the artifact (W&B's context manager)."""
        if not any(c in mode for c in "wxa"):
            raise ValueError(f"new_file(mode={mode!r}): open it for writing ('w', 'x', 'wb', ...)")
        entry = _entry_name(name)
        if "x" in mode and entry in self._entries:
            raise FileExistsError(f"artifact {self.name!r} already has a file {entry!r}")
        path = self._stage(entry)
        self._entries[entry] = path
        return open(path, mode.replace("x", "w"), encoding=None if "b" in mode else encoding or "utf-8")

    def add_reference(self, uri: str | os.PathLike[str], name: str | None = None,
                      checksum: bool = True, max_objects: int | None = None) -> Artifact:
        """Record a reference: file:// paths are checksummed (SHA-256) but not copied;
        other schemes (s3://, https://, ...) are recorded as given."""
        from .references import reference_entries

        self._references.update(reference_entries(str(uri), name, checksum, max_objects))
        return self

    def _stage(self, entry: str) -> Path:
        if self._staging is None:
            self._staging = Path(tempfile.mkdtemp(prefix="runwatch-artifact-"))
            weakref.finalize(self, shutil.rmtree, str(self._staging), True)
        path = self._staging / entry
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def add_dir(self, local_path: str | os.PathLike[str], name: str | None = None) -> Artifact:
        path = Path(local_path)
        if not path.is_dir():
            raise NotADirectoryError(f"Artifact.add_dir: {path} is not a directory")
        prefix = _entry_name(name) + "/" if name else ""
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            self._entries[prefix + file.relative_to(path).as_posix()] = file
        return self

    # -- reading (an artifact from Api.artifact or logged_artifacts) --------------------------
    @property
    def qualified_name(self) -> str:
        return f"{self.project}/{self.name}:{self.version}"

    def files(self) -> list[dict[str, Any]]:
        """The files this version holds: name, size and SHA-256."""
        if self._manifest is None:
            stored = [{"name": n, "size": p.stat().st_size, "digest": None} for n, p in self._entries.items()]
            return stored + [{"name": n, **e} for n, e in sorted(self._references.items())]
        refs = self._manifest.get("references") or {}
        return [{"name": n, **e} for n, e in sorted({**self._manifest["files"], **refs}.items())]

    def download(self, root: str | os.PathLike[str] | None = None) -> str:
        """Copy this version's files into `root` (default ./artifacts/<name>:<version>)."""
        if self._manifest is None or self._store is None:
            raise ArtifactError(f"artifact {self.name!r} has not been logged; nothing to download")
        dest = Path(root) if root is not None else Path("artifacts") / f"{self.name}:{self.version}"
        dest = dest.resolve()
        for name, entry in self._manifest["files"].items():
            target = (dest / name).resolve()
            if dest not in target.parents:
                raise ArtifactError(f"artifact file name {name!r} would land outside {dest}")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(object_path(self._store, entry["digest"]), target)
        for name, entry in (self._manifest.get("references") or {}).items():
            _download_reference(name, entry, dest)
        return str(dest)

    def file(self, root: str | os.PathLike[str] | None = None) -> str:
        """Download a one-file artifact and return that file's path."""
        files = self.files()
        if len(files) != 1:
            raise ArtifactError(f"artifact {self.name!r} holds {len(files)} files; file() needs one: use download()")
        return str(Path(self.download(root)) / files[0]["name"])

    # -- in use (logger/artifact_use.py) ------------------------------------------------------
    def save(self, project: str | None = None, settings: Any = None) -> None:
        """Log this artifact with the current run (W&B's `artifact.save()`)."""
        from .toplevel import current_run

        current_run("logger.Artifact.save()").log_artifact(self)

    def wait(self, timeout: int | None = None) -> Artifact:
        """Storing is synchronous here: the artifact is complete when log_artifact returns."""
        return self

    def used_by(self) -> list[Any]:
        """The runs (Api runs) that used this version, oldest first."""
        from .toplevel import api_runs

        return api_runs(self._root(), users_of(self))

    def logged_by(self) -> Any:
        """The run (an Api run) that logged this version, or None if it cannot be read."""
        from .toplevel import api_runs

        run_id = (self._manifest or {}).get("run")
        found = api_runs(self._root(), [(str(self.project), str(run_id))]) if run_id else []
        return found[0] if found else None

    def _root(self) -> Path:
        if self._store is None:
            raise ArtifactError(f"artifact {self.name!r} has not been logged or read back")
        return self._store.parent.parent

    def get(self, name: str) -> Any:
        """W&B's `artifact.get(name)`: the Table stored as `<name>.table.json` (media/readback.py)."""
        from .media.readback import artifact_table

        return artifact_table(self, name, object_path)

    def __repr__(self) -> str:
        return f"<Artifact {self.name}:{self.version or 'unlogged'} type={self.type}>"


def _download_reference(name: str, entry: dict[str, Any], dest: Path) -> None:
    """Copy a file:// reference whose content still matches; other schemes stay references."""
    from urllib.parse import unquote, urlparse

    ref = str(entry.get("ref", ""))
    if not ref.startswith("file://"):
        return
    source, target = Path(unquote(urlparse(ref).path)), (dest / name).resolve()
    if dest not in target.parents:
        raise ArtifactError(f"artifact reference name {name!r} would land outside {dest}")
    if not source.is_file() or (entry.get("digest") and sha256_file(source) != entry["digest"]):
        raise ArtifactError(f"reference {name!r} ({ref}) is gone or has changed since it was logged")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)




# -- logging ----------------------------------------------------------------------------------
def log_artifact(run: Run, obj: Any, name: str | None, type: str | None,
                 aliases: Sequence[str] | None) -> Artifact | None:
    alias_list = _check_aliases(aliases)
    with tempfile.TemporaryDirectory(prefix="runwatch-artifact-") as scratch:
        artifact = _as_artifact(run, obj, name, type, Path(scratch))
        if artifact is None:
            return None
        try:
            _store(run._root, run.project, artifact, alias_list, run.id)
        except OSError as exc:
            run._warn_once(f"artifact:{artifact.name}",
                           f"runwatch: could not store artifact {artifact.name!r}: {exc.strerror or exc}")
            return artifact
    run._emit(ev.ArtifactLogged(name=artifact.name, type=artifact.type,
                                version=int((artifact.version or "v0")[1:]),
                                digest=artifact.digest or "", size=artifact.size,
                                aliases=list(artifact.aliases), time=time.time()))
    return artifact


def _check_aliases(aliases: Sequence[str] | None) -> list[str]:
    if aliases is None:
        return []
    if isinstance(aliases, str):
        raise TypeError("aliases must be a list of strings, like ['best'], not one string")
    out = []
    for alias in aliases:
        check_component("artifact alias", alias)
        if re.fullmatch(r"v\d+", alias):
            raise ValueError(f"alias {alias!r} looks like a version; versions are numbered for you")
        if alias != "latest" and alias not in out:
            out.append(alias)
    return out


def _as_artifact(run: Run, obj: Any, name: str | None, type: str | None, scratch: Path) -> Artifact | None:
    if isinstance(obj, Artifact):
        return obj
    if isinstance(obj, (str, os.PathLike)):
        path = Path(obj)
        if not path.exists():
            raise FileNotFoundError(f"log_artifact: {path} does not exist")
        art = Artifact(name or _safe_name(path.resolve().name), type or "unspecified")
        return art.add_dir(path) if path.is_dir() else art.add_file(path)
    art = Artifact(name or _safe_name(obj.__class__.__name__.lower()), type or "model")
    try:
        art.add_file(_serialize(obj, scratch))
    except Exception as exc:  # noqa: BLE001 - a model that cannot be saved must not end training
        run._warn_once(f"artifact-obj:{art.name}",
                       f"runwatch: log_artifact could not save the {obj.__class__.__name__} "
                       f"object ({exc}); pass a path to the saved model instead")
        return None
    return art


def _serialize(obj: Any, scratch: Path) -> Path:
    """Save a Python object with its framework's own saver where it has one, else pickle."""
    module = type(obj).__module__ or ""
    if module.startswith("torch") or hasattr(obj, "state_dict") and "torch" in _mro_modules(obj):
        import torch  # type: ignore[import-not-found, unused-ignore]  # only when the object is PyTorch's: it is imported already

        path = scratch / "model.pt"
        torch.save(obj.state_dict(), path)
        return path
    if hasattr(obj, "save_pretrained"):
        target = scratch / "model"
        obj.save_pretrained(target)
        return _single_or_dir(target)
    if module.startswith(("keras", "tensorflow")) and hasattr(obj, "save"):
        path = scratch / "model.keras"
        obj.save(path)
        return path
    path = scratch / "model.pkl"
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def _mro_modules(obj: Any) -> set[str]:
    return {(c.__module__ or "").split(".")[0] for c in type(obj).__mro__}


def _single_or_dir(path: Path) -> Path:
    files = [p for p in path.rglob("*") if p.is_file()]
    return files[0] if len(files) == 1 else path


def _safe_name(name: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-") or "artifact"
    return clean[:128]


def _store(root: Path, project: str, art: Artifact, aliases: list[str], run_id: str) -> None:
    store_artifact(root, project, art, aliases, run_id)



# -- reading ----------------------------------------------------------------------------------
def load_artifact(root: Path, project: str, name: str, alias: str = "latest") -> Artifact:
    """The version of `name` that `alias` ("latest", "v3", "best") names.

    Names, aliases and digests may come from files someone else wrote: each is checked to be
    one plain path component (or a SHA-256) before it is used in a path.
    """
    try:
        check_component("project", project)
        check_component("artifact name", name)
        check_component("artifact alias", alias)
    except (TypeError, ValueError) as exc:
        raise ArtifactError(str(exc)) from None
    store = store_dir(root, project)
    art_dir = store / name
    latest = latest_version(art_dir)
    if latest is None:
        known = list_artifact_names(root, project)
        hint = f"; this project has: {', '.join(known)}" if known else ""
        raise ArtifactError(f"no artifact {name!r} in project {project!r} under {root}{hint}")
    number = _version_of(art_dir, project, name, alias, latest)
    manifest = _manifest(art_dir, project, name, number)
    art = Artifact(manifest["name"], manifest["type"], manifest.get("description"), manifest.get("metadata"))
    art.version, art.digest, art.size, art.project = f"v{number}", manifest["digest"], manifest["size"], project
    names = {alias for alias, version in aliases_of(art_dir) if version == number}
    art.aliases = sorted(names | ({"latest"} if number == latest else set()))
    art._manifest, art._store = manifest, store
    return art


def _version_of(art_dir: Path, project: str, name: str, alias: str, latest: int) -> int:
    """The version number `alias` names: "latest", "v3", or an alias file's "vN"."""
    if alias == "latest":
        return latest
    if re.fullmatch(r"v\d+", alias):
        return int(alias[1:])
    try:
        return int((art_dir / "aliases" / alias).read_text().strip()[1:])
    except (OSError, ValueError):
        raise ArtifactError(f"artifact {project}/{name} has no alias {alias!r}") from None


def _manifest(art_dir: Path, project: str, name: str, number: int) -> dict[str, Any]:
    """Version `number`'s manifest, its file entries checked to name SHA-256 digests (they
    become paths in the store)."""
    try:
        manifest: dict[str, Any] = json.loads((art_dir / f"v{number}.json").read_text())
        files = manifest["files"]
        if not isinstance(files, dict) or not all(
            isinstance(e, dict) and isinstance(e.get("digest"), str) and _SHA256.fullmatch(e["digest"])
            for e in files.values()
        ):
            raise ValueError("a file entry without a SHA-256 digest")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"artifact {project}/{name} has no readable version v{number}: {exc}") from None
    return manifest
