"""A run's files as W&B's Public API shows them: `run.files()`, `run.file(name).download()`.

One File type for everything a run holds under files/: what save() copied, what the script
wrote into run.dir, media (logger/media/), and the console rendered as output.log
(logger/streams.py subclasses File for that).
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any


def like_pattern(pattern: str) -> re.Pattern[str]:
    """SQL LIKE ("%" any run, "_" one character) as a regular expression."""
    parts = ("." if c == "_" else ".*" if c == "%" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.DOTALL)


class File:
    """A file save() stored, shaped like W&B's public File: `name`, `size`, `download()`."""

    def __init__(self, name: str, size: int, files_dir: Path, policy: str) -> None:
        self.name = name
        self.size = size
        self.policy = policy
        self._files_dir = files_dir
        self.path = str(files_dir / name)
        import mimetypes  # here, as shutil below: a reader that lists no file never loads them

        self.mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"

    @property
    def url(self) -> str:
        return Path(self.path).absolute().as_uri()

    def download(self, root: str | os.PathLike[str] = ".", replace: bool = False,
                 exist_ok: bool = False, api: Any = None) -> io.TextIOWrapper:
        """Copy the file to `root`/name and open it, as W&B does; an existing file raises
        ValueError unless `replace` (overwrite) or `exist_ok` (open it as it is)."""
        source = inside(self._files_dir, self.name)
        target = inside(Path(root), self.name)
        if source is None or target is None:
            raise ValueError(f"file name {self.name!r} leads outside its directory; not copied")
        if target.exists() and not replace:
            if exist_ok:
                return open(target)
            raise ValueError(f"{target} already exists: pass replace=True to overwrite it, "
                             "or exist_ok=True to leave it as it is")
        target.parent.mkdir(parents=True, exist_ok=True)
        import shutil

        shutil.copyfile(source, target)
        return open(target)

    def __getitem__(self, key: str) -> Any:  # the dicts files() returned before
        if key in ("name", "size", "path", "policy"):
            return getattr(self, key)
        raise KeyError(key)

    def __repr__(self) -> str:
        return f"<File {self.name} ({self.mimetype}) {self.size} B>"


def inside(base: Path, name: str) -> Path | None:
    """base/name, or None where the name climbs out of base (.. or an absolute path)."""
    path = Path(os.path.abspath(base / name))
    return path if path.is_relative_to(os.path.abspath(base)) and path != Path(os.path.abspath(base)) else None
