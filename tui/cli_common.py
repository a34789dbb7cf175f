"""What every runwatch command shares: the root, finding a run, and printing values safely.

No Textual here (nor anywhere the headless commands import): `runwatch ls` must start fast.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import msgspec

from logger import events as ev
from logger.paths import resolve_root
from logger.reader import RootReader
from logger.rundata import RunData
from logger.textsafe import one_line, safe_text

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
    """Runs `ref` names: project/id, id, project/name, name, then a unique id prefix."""
    if ref in runs:
        return [runs[ref]]
    found = [r for r in runs.values() if r.id == ref]
    if not found and "/" in ref:
        project, name = ref.split("/", 1)
        found = [r for r in runs.values() if r.project == project and r.name == name]
    if not found:
        found = [r for r in runs.values() if r.name == ref]
    if not found and len(ref) >= 3:
        found = [r for r in runs.values() if r.id.startswith(ref)]
    return found


def describe(run: RunData) -> str:
    return f"{safe_text(run.path)} ({one_line(run.name, 40)}, {run.state})"


def pick_run(reader: RootReader, ref: str) -> RunData:
    """The one run `ref` names, or a CliError listing the candidates or close matches."""
    found = match_runs(reader.runs, ref)
    if len(found) == 1:
        return found[0]
    shown = safe_text(ref)
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
    close = difflib.get_close_matches(ref, list(words), n=5, cutoff=0.5)
    hint = ""
    if close:
        hint = "; close matches:\n" + "\n".join(f"    {describe(words[w])}" for w in close)
    else:
        hint = "; `runwatch ls` lists them"
    raise CliError(f"no run {shown!r} under {safe_text(reader.root)}{hint}")


def open_run(ref: str, root_arg: str | None) -> tuple[RootReader, RunData]:
    """Find one run, reading only its files in full (the rest only as far as their names)."""
    ref, root_arg = split_run_path(ref, root_arg)
    root = root_path(root_arg)
    reader = RootReader(root)
    reader.scan(limit=64 * 1024)  # metadata comes first in a segment: enough to find names
    if len(match_runs(reader.runs, ref)) != 1 and reader.pending():
        reader.scan()  # a rename far into a long segment: read everything
    run = pick_run(reader, ref)
    # One read to the end (not "until nothing is pending": a torn last frame stays pending).
    reader.read_paths([seg.path for seg in run.segments.values()])
    run.refresh_state()
    return reader, run


# -- printing values ------------------------------------------------------------------------
def fmt_value(value: Any, width: int = 40, fixed: bool = True) -> str:
    """A value, short: 0.2310 (fixed) or 0.9, 3e-05, 1200, nan; strings made safe, cut to `width`.

    Metrics print with four decimals so that columns line up; config values (`fixed=False`)
    print as written.
    """
    kind = type(value)
    if kind is float:
        if value != value or value in (math.inf, -math.inf):
            return str(value)
        a = abs(value)
        if a == 0:
            return "0"
        if not fixed:
            return f"{value:.6g}"
        if a < 0.01 or a >= 1e6:
            return f"{value:.4g}"
        return f"{value:.4f}"
    if kind is int or kind is bool:
        return str(value)
    if value is None:
        return "none"
    if kind is str:
        return short(value, width)
    if kind is dict and "_type" in value:  # logged media: "Image 64x64 png"
        from logger.media.readback import describe

        return short(describe(value) or to_json(value).decode(), width)
    return short(to_json(value).decode(), width)


def short(value: object, width: int) -> str:
    """`value` made safe (newlines shown as \\n), cut to `width` characters with an ellipsis."""
    text = safe_text(value)
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def fmt_clock(t: float, today: str | None = None) -> str:
    """HH:MM:SS local time; older days get their date in front."""
    lt = time.localtime(t)
    day = time.strftime("%Y-%m-%d", lt)
    if day == (today or time.strftime("%Y-%m-%d")):
        return time.strftime("%H:%M:%S", lt)
    return f"{day} {time.strftime('%H:%M:%S', lt)}"


def iso_time(t: float | None) -> str | None:
    if t is None:
        return None
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds")


def last_line(text: str | None) -> str:
    """The last non-empty line of an error: what a traceback says went wrong."""
    if not text:
        return ""
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else ""


# -- JSON -----------------------------------------------------------------------------------
_encode_json = msgspec.json.Encoder().encode
# JSON escapes C0 controls itself (ESC comes out as \u001b); these it leaves raw, and a
# terminal showing the JSON could act on them: DEL, C1 controls (0x9b is CSI), bidi overrides.
_JSON_UNSAFE = re.compile(rb"\x7f|\xc2[\x80-\x9f]|\xe2\x80[\x8e\x8f\xaa-\xae]|\xe2\x81[\xa6-\xa9]|\xd8\x9c")


def _json_escape(m: re.Match[bytes]) -> bytes:
    return b"\\u%04x" % ord(m.group().decode())


def jsonable(value: Any) -> Any:
    """Values as JSON can carry them: NaN and infinities become the strings "nan", "inf"."""
    kind = type(value)
    if kind is float:
        if value != value:
            return "nan"
        if value in (math.inf, -math.inf):
            return "inf" if value > 0 else "-inf"
        return value
    if kind is dict:
        return {str(k): jsonable(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [jsonable(v) for v in value]
    return value


def to_json(value: Any) -> bytes:
    out = _encode_json(jsonable(value))
    if _JSON_UNSAFE.search(out):
        out = _JSON_UNSAFE.sub(_json_escape, out)
    return out


def json_line(obj: dict[str, Any]) -> str:
    return to_json(obj).decode() + "\n"


def setup_stdout() -> None:
    """Never die on a character the terminal's encoding lacks."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass
