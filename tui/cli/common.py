"""What every runwatch command shares: errors, the root, and finding a run.

No Textual here (nor anywhere the headless commands import): `runwatch ls` must start fast.
How values print is tui/fmt.py's; how text from files is escaped, logger/textsafe.py's.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from logger import events as ev
from logger.paths import entity_refusal, resolve_root
from logger.reader import RootReader
from logger.rundata import RunData
from logger.textsafe import one_line, safe_text

from ..fmt import fmt_state

EXIT_OK, EXIT_RUN_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
ENDED_BADLY = ("failed", "crashed", "killed")


class CliError(Exception):
    """A problem the user can fix: printed as one `runwatch: ...` line, exit code 2."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


# -- the root -------------------------------------------------------------------------------
def root_path(arg: str | None) -> Path:
    """ROOT argument > $RUNWATCH_DIR > ./runs; a file or an unreadable directory is an error.

    A root that does not exist yet is returned as is: `ls` says there are no runs, `tail` waits.
    """
    root = resolve_root(arg)
    if root.exists():
        if not root.is_dir():
            raise CliError(f"root {safe_text(root)} is a file, not a directory of runs")
        if not os.access(root, os.R_OK | os.X_OK):
            raise CliError(f"root {safe_text(root)} is not readable (check its permissions)")
    return root


def no_runs_message(root: Path) -> str:
    where = "does not exist yet" if not root.exists() else "holds no runs yet"
    return (
        f"runwatch: {safe_text(root)} {where}. Log a run with:\n"
        f"    import logger\n"
        f"    run = logger.init(project=\"my-project\", dir=\"{safe_text(root)}\")\n"
        f"    run.log({{\"loss\": 0.5}})\n"
        f"or try `runwatch demo`."
    )


def read_all(root: Path) -> RootReader:
    reader = RootReader(root)
    reader.scan()
    return reader


# -- finding a run --------------------------------------------------------------------------
def split_run_path(ref: str, root_arg: str | None) -> tuple[str, str | None]:
    """A RUN given as its directory (`runs/proj/abc123`) names its root too."""
    path = Path(ref)
    if os.sep in ref and path.is_dir() and any(path.glob("*" + ev.SEGMENT_SUFFIX)):
        path = path.resolve()
        return f"{path.parent.name}/{path.name}", str(path.parent.parent)
    return ref, root_arg


def match_runs(runs: dict[str, RunData], ref: str) -> list[RunData]:
    """Runs `ref` names: project/id (or W&B's entity/project/id and .../runs/id, as the
    script-side run.path gives it), id, project/name, name, then a unique id prefix."""
    if ref in runs:
        return [runs[ref]]
    by_path, _refused = by_wandb_path(runs, ref)
    if by_path is not None:
        return [by_path]
    found = [r for r in runs.values() if r.id == ref]
    if not found and "/" in ref:
        project, name = ref.split("/", 1)
        found = [r for r in runs.values() if r.project == project and r.name == name]
    if not found:
        found = [r for r in runs.values() if r.name == ref]
    if not found and len(ref) >= 3:
        found = [r for r in runs.values() if r.id.startswith(ref)]
    return found


def by_wandb_path(runs: dict[str, RunData], ref: str) -> tuple[RunData | None, str | None]:
    """The run W&B's "entity/project/id" (or ".../runs/id") names, and, where it names one
    logged under another entity (W&B: not found), why not (logger/paths.entity_refusal)."""
    refused = None
    for wandb_path in (ref, ref.replace("/runs/", "/")):  # as written first: a project "runs"
        parts = wandb_path.strip("/").split("/")
        run = runs.get(f"{parts[1]}/{parts[2]}") if len(parts) == 3 else None
        if run is not None:
            refused = entity_refusal(parts[0], run.entity, run.path)
            if refused is None:
                return run, None
    return None, refused


def describe(run: RunData) -> str:
    return f"{safe_text(run.path)} ({one_line(run.name, 40)}, {fmt_state(run.state)})"


def pick_run(reader: RootReader, ref: str) -> RunData:
    """The one run `ref` names, or a CliError listing the candidates or close matches."""
    found = match_runs(reader.runs, ref)
    if len(found) == 1:
        return found[0]
    shown = safe_text(ref)
    _run, refused = by_wandb_path(reader.runs, ref)
    if refused is not None:
        raise CliError(refused)
    if found:
        found.sort(key=lambda r: r.created_at)
        lines = "\n".join(f"    {describe(r)}" for r in found[:10])
        raise CliError(f"run {shown!r} is ambiguous; it matches {len(found)} runs:\n{lines}\n"
                       "name one as project/id")
    if not reader.runs:
        where = "does not exist" if not reader.root.exists() else "holds no runs"
        raise CliError(f"no run {shown!r}: {safe_text(reader.root)} {where} "
                       "(pass --root, or set RUNWATCH_DIR)")
    words: dict[str, RunData] = {}
    for run in reader.runs.values():
        for word in (run.path, run.id, run.name, f"{run.project}/{run.name}"):
            words.setdefault(word, run)
    import difflib  # only when a run is not found

    close = difflib.get_close_matches(ref, list(words), n=5, cutoff=0.5)
    hint = ""
    if close:
        hint = "; close matches:\n" + "\n".join(f"    {describe(words[w])}" for w in close)
    else:
        hint = "; `runwatch ls` lists them"
    raise CliError(f"no run {shown!r} under {safe_text(reader.root)}{hint}")


def open_run(ref: str, root_arg: str | None) -> tuple[RootReader, RunData]:
    """Find one run as a listing reads it (each segment from its last snapshot on, or the index
    cache; no rows kept): its name, tags, notes, config, summary and state; its rows are read
    when asked for. Reading every row first took seconds and a GB for a 1M-step run."""
    ref, root_arg = split_run_path(ref, root_arg)
    reader = RootReader(root_path(root_arg), meta=True)
    reader.scan()  # snapshots and the index cache: cheap for every run
    run = pick_run(reader, ref)
    run.refresh_state()
    return reader, run


def setup_stdout() -> None:
    """Never die on a character the terminal's encoding lacks."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass
