"""`save()`: copy files into the run's files/ directory, never outside it."""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from . import events as ev

if TYPE_CHECKING:
    from .run import Run

POLICIES = ("live", "now", "end")


def save_files(run: Run, glob_str: str | os.PathLike[str], base_path: str | os.PathLike[str] | None,
               policy: str) -> list[str]:
    """Copy what `glob_str` matches now (policy "now"/"live") and again at finish ("live"/"end").

    Names under files/ are the matches' paths relative to `base_path` (default: the glob's own
    directory, so `save("ckpt/*.pt")` stores `model.pt`). A match outside `base_path` is
    refused: nothing is ever written outside the run directory.
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
    base = os.fspath(base_path) if base_path is not None else (os.path.dirname(pattern) or ".")
    names = [name for _, name in _matches(pattern, base)]  # refuses escapes before anything else
    if policy in ("live", "end"):
        run._saves.append((pattern, None if base_path is None else base, policy))
    if policy in ("live", "now"):
        names = _copy_matches(run, pattern, base, policy)
        if not names and policy == "now":
            run._warn_once(f"save:{pattern}", f"runwatch: save({pattern!r}) matched no files")
    return names


def save_pending(run: Run) -> None:
    """At finish: copy again everything saved with policy "live" or "end"."""
    for pattern, base, policy in run._saves:
        _copy_matches(run, pattern, base or (os.path.dirname(pattern) or "."), policy)
    run._saves.clear()


def _matches(pattern: str, base: str) -> list[tuple[Path, str]]:
    base_abs = os.path.abspath(base)
    out = []
    for match in sorted(glob.glob(pattern, recursive=True)):
        if not os.path.isfile(match):
            continue
        rel = os.path.relpath(os.path.abspath(match), base_abs)
        if rel == ".." or rel.startswith(".." + os.sep) or os.path.isabs(rel):
            raise ValueError(
                f"save({pattern!r}): {match} is outside base_path {base!r}, so it would be "
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
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
            shutil.copyfile(src, tmp)
            os.replace(tmp, dest)  # readers never see a half-copied file
            size = dest.stat().st_size
        except OSError as exc:
            run._warn_once(f"save-io:{rel}", f"runwatch: could not save {src}: {exc.strerror or exc}")
            continue
        run._emit(ev.FileSaved(path=rel, policy=policy, size=size, time=_time()))
        names.append(rel)
    return names


def _time() -> float:
    import time

    return time.time()
