"""The artifact storage layer: the on-disk layout, content stored once by SHA-256, versions
allocated without races, identical content logged by several processes at once making ONE
version, and the per-run use records. It imports nothing above it (Artifact is a type here).

    ROOT/<project>/artifacts/objects/<sha[:2]>/<sha256>     each file's content, once
    ROOT/<project>/artifacts/<name>/v<N>.json               a version's manifest
    ROOT/<project>/artifacts/<name>/aliases/<alias>         the version an alias names
    ROOT/<project>/artifacts/<name>/uses/v<N>/<project>~<run id>.json   a run used v<N>

Identical content is decided by a claim: the first process to create
`<name>/digests/<type>-<digest>` exclusively allocates the version and writes its number
into the claim; every other process with the same content waits (briefly) for that number
and uses that version. A claim left empty by a process that died is waited out, then
ignored: the survivor allocates its own version rather than hang.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .atomic import copy_atomic, write_atomic

if TYPE_CHECKING:
    from .artifacts import Artifact

CLAIM_WAIT = 10.0  # seconds a process waits for another's claim: a version link takes < 10 ms
_CLAIMED = re.compile(r"^v(\d+)\n")
_VERSION_FILE = re.compile(r"^v(\d+)\.json$")


class ArtifactError(Exception):
    """An artifact that cannot be found or stored; the message says which and why."""


def store_dir(root: Path, project: str) -> Path:
    return root / project / "artifacts"


def object_path(store: Path, digest: str) -> Path:
    return store / "objects" / digest[:2] / digest


def entry_name(name: str) -> str:
    """A file's name inside an artifact: a relative path that cannot climb out."""
    clean = name.replace("\\", "/").strip("/")
    if not clean or any(part in ("", ".", "..") for part in clean.split("/")) or "\x00" in clean:
        raise ValueError(f"artifact entry name {name!r} must be a relative path without '..'")
    return clean


def read_versions(art_dir: Path) -> list[dict[str, Any]]:
    out = []
    for entry in _version_files(art_dir):
        try:
            out.append(json.loads(entry.read_text()))
        except (OSError, ValueError):
            continue  # a damaged manifest is not a version
    return out


def _version_files(art_dir: Path) -> Iterable[Path]:
    try:
        return [p for p in art_dir.iterdir() if _VERSION_FILE.match(p.name)]
    except OSError:
        return []


def latest_version(art_dir: Path) -> int | None:
    numbers = [int(m.group(1)) for p in _version_files(art_dir) if (m := _VERSION_FILE.match(p.name))]
    return max(numbers) if numbers else None


def aliases_of(art_dir: Path) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    try:
        entries = list((art_dir / "aliases").iterdir())
    except OSError:
        return out
    for p in entries:
        if p.name.startswith("."):
            continue
        try:
            out.append((p.name, int(p.read_text().strip()[1:])))
        except (OSError, ValueError):
            continue
    return out


def list_artifact_names(root: Path, project: str) -> list[str]:
    store = store_dir(root, project)
    try:
        return sorted(p.name for p in store.iterdir() if p.is_dir() and p.name != "objects")
    except OSError:
        return []


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def store_artifact(root: Path, project: str, art: Artifact, aliases: list[str], run_id: str) -> None:
    """Store `art` as a version of ROOT/<project>/artifacts/<name> and fill in its version."""
    store = store_dir(root, project)
    files = {entry: _store_object(store, src) for entry, src in sorted(art._entries.items())}
    references = dict(sorted(art._references.items()))
    digest = hashlib.sha256(
        ("".join(f"{n}:{e['digest']}\n" for n, e in files.items())
         + "".join(f"ref {n}:{e.get('ref')}:{e.get('digest')}\n" for n, e in references.items())).encode()
    ).hexdigest()
    art_dir = store / art.name
    art_dir.mkdir(parents=True, exist_ok=True)
    manifest = _existing(art_dir, digest, art.type)
    if manifest is None:
        manifest = {
            "name": art.name, "type": art.type, "digest": digest, "files": files,
            "size": sum(e["size"] for e in files.values()), "aliases": aliases,
            "description": art.description, "metadata": art.metadata, "run": run_id,
            "created_at": time.time(), "version": 0,
        }
        if references:
            manifest["references"] = references
        claim = _claim(art_dir, f"{art.type}-{digest}")
        if claim is None:
            manifest = _claimed(art_dir, digest, art.type) or _new_version(art_dir, manifest)
        else:
            try:
                manifest = _new_version(art_dir, manifest)
                os.write(claim, f"v{manifest['version']}\n".encode())
            except BaseException:
                (art_dir / "digests" / f"{art.type}-{digest}").unlink(missing_ok=True)
                raise
            finally:
                os.close(claim)
    for alias in aliases:
        _set_alias(art_dir, alias, manifest["version"])
    art.version = f"v{manifest['version']}"
    art.digest, art.size, art.project = digest, manifest["size"], project
    art.aliases = sorted({*aliases, "latest"} if latest_version(art_dir) == manifest["version"] else set(aliases))
    art._manifest, art._store = manifest, store


def _store_object(store: Path, src: Path) -> dict[str, Any]:
    digest = sha256_file(src)
    dest = object_path(store, digest)
    if not dest.exists():  # fsynced, as all of the store: a manifest names only durable objects
        copy_atomic(src, dest, fsync=True)
    return {"digest": digest, "size": dest.stat().st_size}


def _existing(art_dir: Path, digest: str, type: str) -> dict[str, Any] | None:
    same = [m for m in read_versions(art_dir) if m.get("digest") == digest and m.get("type") == type]
    return max(same, key=lambda m: m["version"]) if same else None


def _claim(art_dir: Path, key: str) -> int | None:
    """An open fd of the new claim file for `key`, or None if another process holds it."""
    claims = art_dir / "digests"
    claims.mkdir(exist_ok=True)
    try:
        return os.open(claims / key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        return None


def _claimed(art_dir: Path, digest: str, type: str) -> dict[str, Any] | None:
    """The version another process claimed for this content, once it has linked it."""
    path = art_dir / "digests" / f"{type}-{digest}"
    deadline = time.monotonic() + CLAIM_WAIT
    delay = 0.001
    while time.monotonic() < deadline:
        try:
            match = _CLAIMED.match(path.read_text())
        except OSError:
            match = None
        if match:
            try:
                return dict(json.loads((art_dir / f"v{match.group(1)}.json").read_text()))
            except (OSError, ValueError):
                return _existing(art_dir, digest, type)
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
    return _existing(art_dir, digest, type)


def _new_version(art_dir: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Write `manifest` as the next version, linked under a number no other process holds."""
    number = max((m["version"] for m in read_versions(art_dir)), default=-1) + 1
    while True:
        manifest["version"] = number
        try:
            write_atomic(art_dir / f"v{number}.json", json.dumps(manifest, indent=1).encode(),
                         fsync=True, replace=False)  # fails if another process has it
            return manifest
        except FileExistsError:
            number += 1


def _set_alias(art_dir: Path, alias: str, version: int) -> None:
    write_atomic(art_dir / "aliases" / alias, f"v{version}\n".encode(), fsync=True)


# -- uses (one file per version and run, created once by the run that used it) ---------------
def _uses_dir(art: Artifact) -> Path:
    if art._store is None or art.version is None:
        raise ArtifactError(f"artifact {art.name!r} has not been logged or read back")
    return art._store / art.name / "uses" / str(art.version)


def record_use(art: Artifact, project: str, run_id: str) -> None:
    uses = _uses_dir(art)
    target = uses / f"{project}~{run_id}.json"
    if target.exists():
        return
    record = {"project": project, "run": run_id, "time": time.time()}
    write_atomic(target, json.dumps(record).encode(), fsync=True)


def users_of(art: Artifact) -> list[tuple[str, str]]:
    """(project, run id) of every run that used this version, oldest first."""
    return _users_in(_uses_dir(art))


def users_of_version(root: Path, project: str, name: str, version: str) -> list[tuple[str, str]]:
    """`users_of` for a version named by its project, name and "vN" (what an event records)."""
    if not _is_name(name) or not _is_name(version):
        return []
    return _users_in(store_dir(root, project) / name / "uses" / version)


def _is_name(part: str) -> bool:
    return bool(part) and part not in (".", "..") and "/" not in part and "\\" not in part


def _users_in(uses: Path) -> list[tuple[str, str]]:
    found = []
    try:
        entries = list(uses.iterdir())
    except OSError:
        return []
    for p in entries:
        if p.name.startswith(".") or p.suffix != ".json":
            continue
        try:
            record = json.loads(p.read_text())
            found.append((float(record["time"]), str(record["project"]), str(record["run"])))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a damaged record is not a use
    return [(project, run) for _, project, run in sorted(found)]
