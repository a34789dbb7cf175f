"""`save()`: copy files into the run's files/ directory, never outside it."""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import TYPE_CHECKING

from . import events as ev
from .atomic import copy_atomic

if TYPE_CHECKING:
    from .run import Run

POLICIES = ("live", "now", "end")


def save_files(run: Run, glob_str: str | os.PathLike[str], base_path: str | os.PathLike[str] | None,
               policy: str) -> tuple[list[str], tuple[str, str, str] | None]:
    """Copy what `glob_str` matches now (policy "now"/"live"); also return what to copy again
    at finish ("live"/"end"), or None.

    Names under files/ are the matches' paths relative to `base_path` (default: the glob's
    directory up to its first wildcard, so `save("ckpt/*.pt")` stores `model.pt` and
    `save("out/*/model.pt")` stores `a/model.pt`). Pattern and base are made absolute now, so a
    later `os.chdir` changes nothing. A match outside `base_path` is refused, and nothing is
    ever written outside the run directory, through a symlink or otherwise.
    """
    if policy not in POLICIES:
        raise ValueError(f"save(policy={policy!r}): use one of {', '.join(POLICIES)}")
    if not isinstance(glob_str, (str, os.PathLike)):
        raise TypeError(f"save() takes a file name or glob (str), not {type(glob_str).__name__}")
    pattern = os.fspath(glob_str)
    if not isinstance(pattern, str) or not pattern or "\x00" in pattern:
        raise ValueError(f"save() needs a file name or glob, like save('model.pt'), not {glob_str!r}")
    if base_path is None and ".." in pattern.replace("\\", "/").split("/"):
        raise ValueError(
            f"save({pattern!r}): the glob walks above its own directory; pass base_path= to say "
            "what the stored names are relative to (as W&B requires)"
        )
    shown = (pattern, os.fspath(base_path) if base_path is not None else _fixed_dir(pattern))
    base = os.path.abspath(shown[1])
    if not os.path.isabs(pattern):
        pattern = os.path.join(glob.escape(os.getcwd()), pattern)
    names = [name for _, name in _matches(pattern, base, shown)]  # refuses escapes first
    again = (pattern, base, policy) if policy in ("live", "end") else None
    if not names and policy == "now":
        run._warn_once(f"save:{pattern}", f"runwatch: save({glob_str!r}) matched no files")
    if policy in ("live", "now"):
        names = _copy_matches(run, pattern, base, policy)
    return names, again


def save_pending(run: Run, saves: list[tuple[str, str, str]]) -> None:
    """At finish: copy again everything saved with policy "live" or "end"."""
    for pattern, base, policy in saves:
        try:
            _copy_matches(run, pattern, base, policy)
        except ValueError as exc:  # a file that appeared since, outside base_path
            run._warn_once(f"save-end:{pattern}", f"runwatch: {exc}")


def _fixed_dir(pattern: str) -> str:
    """The directory part of `pattern` before its first wildcard ("out/*/m.pt" -> "out")."""
    parts = os.path.dirname(pattern).split(os.sep) if os.path.dirname(pattern) else []
    fixed: list[str] = []
    for part in parts:
        if glob.has_magic(part):
            break
        fixed.append(part)
    if pattern.startswith(os.sep) and not fixed:
        return os.sep
    return os.sep.join(fixed) or "."


def _matches(pattern: str, base: str, shown: tuple[str, str] | None = None) -> list[tuple[Path, str]]:
    out = []
    for match in sorted(glob.glob(pattern, recursive=True)):
        if not os.path.isfile(match):
            continue
        rel = os.path.relpath(os.path.abspath(match), base)
        if rel == ".." or rel.startswith(".." + os.sep) or os.path.isabs(rel):
            what, where = shown or (pattern, base)
            raise ValueError(
                f"save({what!r}): {os.path.relpath(match) if shown else match} is outside "
                f"base_path {where!r}, so it would be "
                "stored outside the run directory; pass a base_path that contains it"
            )
        out.append((Path(match), rel.replace(os.sep, "/")))
    return out


def _copy_matches(run: Run, pattern: str, base: str, policy: str) -> list[str]:
    files_dir = run.run_dir / "files"
    names = []
    for src, rel in _matches(pattern, base):
        dest = files_dir / rel
        try:
            existing = dest.parent
            while not existing.exists() and existing != run.run_dir:
                existing = existing.parent
            if _inside(existing, run.run_dir):  # no directory is made through a link out
                dest.parent.mkdir(parents=True, exist_ok=True)
            if not _inside(dest.parent, run.run_dir):
                run._warn_once(f"save-link:{rel}", (
                    f"runwatch: not saving {src}: {dest.parent} leads outside the run directory "
                    "(a symlink); save() never writes outside it"))
                continue
            _copy_into(src, dest)
            size = dest.stat().st_size
        except OSError as exc:
            run._warn_once(f"save-io:{rel}", f"runwatch: could not save {src}: {exc.strerror or exc}")
            continue
        run._emit(ev.FileSaved(path=rel, policy=policy, size=size, time=_time()))
        names.append(rel)
    return names


def _inside(path: Path, run_dir: Path) -> bool:
    real, top = os.path.realpath(path), os.path.realpath(run_dir)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def _copy_into(src: Path, dest: Path) -> None:
    """Copy through a new temporary file (logger/atomic.py: never an existing one, never a
    symlink) renamed over `dest`: readers never see a half-copied file, and a link planted at
    `dest` is replaced, not written through. No fsync: files can be GBs, copied again on every
    change ("live"), and the segment that names them is not fsynced before finish either."""
    copy_atomic(src, dest)


def _time() -> float:
    import time

    return time.time()
