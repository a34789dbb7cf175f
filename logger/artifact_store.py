"""Storing an artifact version: content once by SHA-256, versions allocated without races,
and identical content logged by several processes at once making ONE version.

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
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .artifacts import _latest_version, _object_path, _read_versions, store_dir

if TYPE_CHECKING:
    from .artifacts import Artifact

CLAIM_WAIT = 10.0  # seconds a process waits for another's claim: a version link takes < 10 ms
_CLAIMED = re.compile(r"^v(\d+)\n")


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
    art.aliases = sorted({*aliases, "latest"} if _latest_version(art_dir) == manifest["version"] else set(aliases))
    art._manifest, art._store = manifest, store


def _store_object(store: Path, src: Path) -> dict[str, Any]:
    digest = sha256_file(src)
    dest = _object_path(store, digest)
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{digest}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    return {"digest": digest, "size": dest.stat().st_size}


def _existing(art_dir: Path, digest: str, type: str) -> dict[str, Any] | None:
    same = [m for m in _read_versions(art_dir) if m.get("digest") == digest and m.get("type") == type]
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
    number = max((m["version"] for m in _read_versions(art_dir)), default=-1) + 1
    # Created like every other file (0666 less the umask); mkstemp would make it 0600.
    tmp = str(art_dir / f".manifest-{os.getpid()}-{os.urandom(4).hex()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        while True:
            manifest["version"] = number
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, json.dumps(manifest, indent=1).encode())
            os.fsync(fd)
            try:
                os.link(tmp, art_dir / f"v{number}.json")  # fails if another process has it
                return manifest
            except FileExistsError:
                number += 1
    finally:
        os.close(fd)
        os.unlink(tmp)


def _set_alias(art_dir: Path, alias: str, version: int) -> None:
    alias_dir = art_dir / "aliases"
    alias_dir.mkdir(exist_ok=True)
    tmp = alias_dir / f".{alias}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    tmp.write_text(f"v{version}\n")
    os.replace(tmp, alias_dir / alias)
