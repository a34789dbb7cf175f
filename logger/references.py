"""`Artifact.add_reference`: content an artifact names without copying it.

A file:// reference (a file, or a directory walked to `max_objects` files) is checksummed
with SHA-256 when it is added, so a later change to it shows as a different version; any
other scheme (s3://, gs://, https://, ...) cannot be read here and is recorded as given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from .artifact_store import entry_name as _entry_name
from .artifact_store import sha256_file

DEFAULT_MAX_OBJECTS = 10_000_000  # W&B's default limit on files under one reference


def reference_entries(uri: str, name: str | None, checksum: bool,
                      max_objects: int | None) -> dict[str, dict[str, Any]]:
    """{entry name: {"ref", "digest", "size"}} for what `uri` names."""
    if not isinstance(uri, str) or "://" not in uri:
        raise ValueError(f"add_reference({uri!r}): give a URI such as file:///data/train.csv or s3://bucket/key")
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        entry = _entry_name(name or Path(parsed.path).name or parsed.netloc or "reference")
        return {entry: {"ref": uri, "digest": None, "size": None}}
    path = Path(unquote(parsed.path))
    if path.is_file():
        return {_entry_name(name or path.name): _file_entry(path, checksum)}
    if not path.is_dir():
        raise FileNotFoundError(f"add_reference: {path} (from {uri}) does not exist")
    limit = max_objects or DEFAULT_MAX_OBJECTS
    files = sorted(p for p in path.rglob("*") if p.is_file())
    if len(files) > limit:
        raise ValueError(f"add_reference: {path} holds {len(files)} files, more than max_objects={limit}")
    prefix = _entry_name(name) + "/" if name else ""
    return {prefix + p.relative_to(path).as_posix(): _file_entry(p, checksum) for p in files}


def _file_entry(path: Path, checksum: bool) -> dict[str, Any]:
    return {"ref": path.resolve().as_uri(), "digest": sha256_file(path) if checksum else None,
            "size": path.stat().st_size}
