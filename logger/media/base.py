"""What every media value shares: where its file goes under the run, and how it is named.

W&B writes a logged image to `<run>/files/media/images/<key>_<step>_<sha256[:20]>.png` and puts
a dict naming that file in the history row; runwatch does the same, so analysis code that
follows `row["img"]["path"]` works unchanged. Files are written to a temporary name and
renamed (DESIGN.md section 3: nothing is rewritten in place); identical content at the same
name is written once.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

_UNSAFE_KEY = re.compile(r"[^A-Za-z0-9._\-/]+")
_encode_json = msgspec.json.Encoder().encode


def media_json(body: Any) -> bytes:
    """A media file's JSON (a table, boxes, a point cloud) as W&B writes it (json_dump_safer:
    Python's json.dump), a NaN or an infinity as its NaN, Infinity, -Infinity tokens, where
    msgspec writes null and the value would be lost. Only a body that holds one (msgspec's
    output has "null" then) is written by json.dump; media/readback.py reads both."""
    data = _encode_json(body)
    if b"null" not in data or not _non_finite(body):
        return data
    try:
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    except (TypeError, ValueError):  # a kind msgspec encodes and json does not: msgspec's then
        return data


def _non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(map(_non_finite, value.values()))
    if isinstance(value, (list, tuple)):
        return any(map(_non_finite, value))
    return False


class Media:
    """Base of W&B's value types (Image, Table, Histogram, ...): `to_ref` stores it for a step."""

    _log_type = "file"

    def to_ref(self, ctx: Context) -> dict[str, Any]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class Context:
    """Where one logged value is stored: the run's files/ directory, its history key and step."""

    def __init__(self, files_dir: Path, key: str, step: int | str, run: Any = None,
                 cell: Callable[[Context, Any], Any] | None = None, spool: Any = None) -> None:
        self.files_dir = files_dir
        self.key = key
        self.step = step  # or "summary", for a value set in the run's summary (W&B's name)
        self.run = run  # the writing Run, for what goes beyond files/ (a table's run artifact)
        # How a table cell becomes JSON (convert.cell_value): passed in, so a Table (below
        # convert, which builds Tables from DataFrames) never imports convert.
        self.cell = cell or _plain_cell
        self.spool = spool  # the run's media thread (spool.py); None: files are written now

    def child(self, key: str) -> Context:
        """The same step under another key (a table cell, an item of a list)."""
        return Context(self.files_dir, key, self.step, cell=self.cell, spool=self.spool)

    def store(self, subdir: str, data: bytes, ext: str, index: int | None = None) -> dict[str, Any]:
        """Name `data` as W&B names media files and queue its write (spool.py); the `path`,
        `sha256` and `size` of the ref."""
        sha = hashlib.sha256(data).hexdigest()
        ident = sha[:20] if index is None else f"{index}_{sha[:20]}"
        rel = f"media/{subdir}/{safe_key(self.key)}_{self.step}_{ident}{ext}"
        if self.spool is not None:
            self.spool.write(self.files_dir / rel, data)
        else:
            from .spool import store_file

            store_file(self.files_dir / rel, data)
        return {"path": rel, "sha256": sha, "size": len(data)}


def _plain_cell(ctx: Context, value: Any) -> Any:
    return value


def safe_key(key: str) -> str:
    """A history key as a relative path: W&B keeps "/" as folders; nothing may climb out."""
    parts = [_UNSAFE_KEY.sub("_", p) for p in str(key).split("/")]
    parts = [p for p in parts if p and p not in (".", "..")]
    return "/".join(parts) or "_"


def module_of(obj: Any) -> str:
    """The top-level package an object's type comes from ("numpy", "PIL", "torch", ...)."""
    return (type(obj).__module__ or "").partition(".")[0]


def read_source(data: Any) -> tuple[bytes, str] | None:
    """(bytes, extension) when `data` names an existing file (a str or os.PathLike)."""
    if isinstance(data, (str, os.PathLike)) and not isinstance(data, bytes):
        path = Path(os.fspath(data))
        if path.is_file():
            return path.read_bytes(), path.suffix.lower()
        raise FileNotFoundError(f"no file {path} to log (pass a path to an existing file)")
    return None


def to_numpy(data: Any) -> Any:
    """A torch tensor (or anything with `.numpy()`) as a NumPy array; NumPy arrays as they are."""
    if module_of(data) == "torch":
        return data.detach().cpu().numpy()
    return data
