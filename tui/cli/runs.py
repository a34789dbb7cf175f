"""`runwatch ls` and `runwatch show`: a root's runs as a table, one run in full (or as JSON)."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

from logger.flat import flatten
from logger.query import FilterError, check_keys, compile_filter, shown_summary, summary_value
from logger.reader import RootReader
from logger.rundata import RunData
from logger.textsafe import safe_text

from ..fmt import fmt_duration, fmt_exact, fmt_state, fmt_value, iso_time, json_line, short
from ..model.stall import is_stalled, last_logged, log_interval
from .common import CliError, no_runs_message, open_run, root_path
from .parser import JSON_FLOATS, ROOT_HELP, RUN_HELP, Command, split_keys

LS_METRICS = 4


# -- ls -------------------------------------------------------------------------------------
def configure_ls(p: argparse.ArgumentParser) -> None:
    p.add_argument("root", nargs="?", metavar="ROOT", help=ROOT_HELP)
    p.add_argument("-f", "--filter", default="", metavar="FILTER",
                   help="the TUI's filter, terms without spaces: lr<=1e-3 state:running "
                        "tag:x name~REGEX created_at>=2024-01-01 words")
    p.add_argument("-p", "--project", action="append", default=[], help="only this project (repeatable)")
    p.add_argument("-m", "--metrics", action="append", default=[], metavar="KEYS",
                   help="summary keys to show, comma-separated (default: the common ones)")
    p.add_argument("--json", action="store_true", help="one JSON object per run (schema: tui/tail.py); " + JSON_FLOATS)
    p.add_argument("--sweep", metavar="SWEEP_ID", help="only the runs of this sweep (id or project/id)")


def run_ls(args: argparse.Namespace, out: TextIO) -> int:
    return cmd_ls(root_path(args.root), args.filter, args.project, split_keys(args.metrics),
                  args.json, out, sweep=args.sweep)


LS = Command("ls", "list runs: state, name, id, step, runtime, key metrics", """\
  runwatch ls
  runwatch ls runs -p cat-classification
  runwatch ls -f 'state:running'              the TUI's filter syntax
  runwatch ls -f 'lr<=1e-3 tag:baseline' -m loss,val/acc
  runwatch ls -f 'created_at>=2024-01-01 name~^resnet'   made since, by name
  runwatch ls --json | jq -r .run""", configure_ls, run_ls)


def cmd_ls(root: Path, filter_text: str, projects: list[str], metrics: list[str], as_json: bool,
           out: TextIO, sweep: str | None = None) -> int:
    try:
        predicate = compile_filter(filter_text)
    except FilterError as exc:
        raise CliError(f"--filter: {exc}") from None
    reader = RootReader(root, meta=True)  # from snapshots: no run's history is read
    reader.scan()
    if not reader.runs:
        print(no_runs_message(root), file=sys.stderr)
        return 0
    runs = [r for r in reader.runs.values() if not projects or r.project in projects]
    if sweep is not None:  # the sweep's claims name its runs (logger/sweeps/store.py)
        members = _sweep_runs(root, sweep)
        runs = [r for r in runs if (r.project, r.id) in members]
    try:
        check_keys(filter_text, runs)
        runs = [r for r in runs if predicate(r)]
    except FilterError as exc:
        raise CliError(f"--filter: {exc}") from None
    runs.sort(key=lambda r: r.created_at)
    if not runs:
        print(f"runwatch: no run matches (none of the {len(reader.runs)} runs under "
              f"{safe_text(root)}); drop -f/-p/--sweep to list them all", file=sys.stderr)
        return 0
    if as_json:
        for r in runs:  # a line at a time: memory stays at one run's record
            out.write(json_line(run_record(r)))
        return 0
    keys = metrics or default_metrics(runs)
    now = time.time()
    rows = [["STATE", "RUN", "ID", "STEP", "RUNTIME", *(short(k, 24) for k in keys)]]
    for r in runs:
        summary = r.summary_flat()
        rows.append([
            _state_text(r, now), short(f"{r.project}/{r.name}", 40), short(r.id, 20),
            "" if r.step is None else str(r.step), fmt_duration(r.runtime),
            *(_metric_text(summary, k) for k in keys),
        ])
    out.write(table(rows))
    return 0


def _state_text(r: RunData, now: float) -> str:
    """The state as a word: "stalled" for a running run that stopped logging (tui/model/runview)."""
    return "stalled" if _stalled(r, now) else fmt_state(r.state)


def _stalled(r: RunData, now: float) -> bool:
    if r.state != "running":  # only a live run can stall: a finished one's rows stay unread
        return False
    return is_stalled(r.state, bool(r.rows), last_logged(r), log_interval(r), now)


def _metric_text(summary: dict[str, Any], key: str) -> str:
    """A summary value as the app's table shows it: `val/loss` its define_metric aggregate,
    `val/loss.min` that part; "-" when the run has not logged it (never nan)."""
    value = summary_value(summary, key)
    return "-" if value is None and key not in summary else fmt_value(value, 16)


def _sweep_runs(root: Path, sweep: str) -> set[tuple[str, str]]:
    from logger.sweeps.store import SweepConfigError, sweep_runs

    try:
        return sweep_runs(root, sweep)
    except SweepConfigError as exc:
        raise CliError(f"--sweep: {safe_text(str(exc))}") from None


def default_metrics(runs: list[RunData]) -> list[str]:
    """The numeric keys most of these runs have, in the order they were first logged."""
    counts: Counter[str] = Counter()
    order: dict[str, int] = {}
    for r in runs:
        for key in r.numeric_keys():
            counts[key] += 1
            order.setdefault(key, len(order))
    best = sorted(counts, key=lambda k: (-counts[k], order[k]))[:LS_METRICS]
    return sorted(best, key=lambda k: order[k])


def table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip() + "\n")
    return "".join(lines)


def run_record(r: RunData) -> dict[str, Any]:
    return {
        "run": r.path, "entity": r.entity, "project": r.project, "id": r.id, "name": r.name, "state": r.state,
        "exit_code": r.exit_code, "error": r.error, "step": r.step,
        "runtime": round(r.runtime, 3), "created": iso_time(r.created_at),
        "updated": iso_time(last_logged(r)), "stalled": _stalled(r, time.time()), "tags": list(r.tags), "notes": r.notes,
        "group": r.group, "job_type": r.job_type, "config": r.config,
        "summary": shown_summary(r.summary_flat()), "path": str(r.dir),
    }


# -- show -----------------------------------------------------------------------------------
def configure_show(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", metavar="RUN", help=RUN_HELP)
    p.add_argument("--root", help=ROOT_HELP)
    p.add_argument("--json", action="store_true", help="one JSON object; " + JSON_FLOATS)


SHOW = Command("show", "a run's metadata, config, summary, tags, notes, artifacts, files", """\
  runwatch show brisk-otter-7
  runwatch show cat-classification/3kq9x2ab --root /data/runs
  runwatch show runs/cat-classification/3kq9x2ab
  runwatch show brisk-otter-7 --json""", configure_show,
               lambda args, out: cmd_show(args.run, args.root, args.json, out))


def cmd_show(ref: str, root_arg: str | None, as_json: bool, out: TextIO) -> int:
    reader, r = open_run(ref, root_arg)  # no history: summaries from snapshots
    # ...but every damaged frame counted, those before the snapshots too, as tail counts them
    # (frame checks only, once: the index cache keeps the count)
    reader.count_damage([r])
    if as_json:
        record = run_record(r)
        record["artifacts"] = [
            {"name": a.name, "type": a.type, "version": a.version, "digest": a.digest,
             "size": a.size, "aliases": a.aliases} for a in r.artifacts]
        record["files"] = [{"path": f.path, "policy": f.policy, "size": f.size} for f in r.files]
        record["start"] = _start_fields(r)
        sweep = _sweep_of(r)[0]
        record["sweep"] = f"{r.project}/{sweep}" if sweep else None
        # What the reader skipped, as the text says it (damaged frames, rows it cannot hold).
        record["skipped_frames"], record["dropped_rows"] = r.skipped_frames, r.dropped_rows
        out.write(json_line(record))
        return 0
    out.write("".join(show_lines(r)))
    return 0


def _start_fields(r: RunData) -> dict[str, Any]:
    s, seg = r.start, r.first_segment
    return {
        "host": seg.host if seg else None, "pid": seg.pid if seg else None,
        "command": s.command if s else None, "python": s.python if s else None,
        "cwd": s.cwd if s else None, "git_commit": s.git_commit if s else None,
        "git_branch": s.git_branch if s else None,
    }


def show_lines(r: RunData) -> list[str]:
    """`runwatch show`: the metadata lines, then one section per part of the run."""
    lines = [f"{k:<15} {short(v, 200)}\n" for k, v in _meta(r)]
    if r.error:
        lines.append(_section("error"))
        lines += [f"  {safe_text(line)}\n" for line in r.error.rstrip().splitlines()]
    lines.append(_section("tags"))
    lines.append("  " + (", ".join(short(t, 60) for t in r.tags) or "(none)") + "\n")
    lines.append(_section("notes"))
    notes = (r.notes or "").rstrip()
    lines += [f"  {safe_text(line)}\n" for line in notes.splitlines()] or ["  (none)\n"]
    lines += _mapping("config", r.config)
    summary = {k: v for k, v in r.summary_flat().items() if not k.startswith("_")}
    lines += _mapping("summary", summary)
    return lines + _stored(r)


def _meta(r: RunData) -> list[tuple[str, Any]]:
    meta: list[tuple[str, Any]] = [("run", r.path), ("name", r.name), ("state", r.state)]
    if r.entity is not None:  # the entity init was given (entity=, $WANDB_ENTITY)
        meta.insert(1, ("entity", r.entity))
    if r.exit_code is not None:
        meta.append(("exit code", r.exit_code))
    meta += [("created", time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.created_at))),
             ("runtime", fmt_duration(r.runtime)), ("step", "-" if r.step is None else r.step)]
    if r.group:
        meta.append(("group", r.group))
    if r.job_type:
        meta.append(("job type", r.job_type))
    for key, value in _start_fields(r).items():
        if value is not None:
            meta.append((key.replace("_", " "), " ".join(value) if key == "command" else value))
    meta.append(("directory", str(r.dir)))
    sweep, stopped = _sweep_of(r)
    if sweep is not None:
        meta.append(("sweep", f"{r.project}/{sweep}"))
        if stopped:
            meta.append(("sweep stopped", stopped))
    if r.skipped_frames:
        meta.append(("damaged frames", f"{r.skipped_frames} skipped while reading"))
    if r.dropped_rows:
        meta.append(("dropped rows", f"{r.dropped_rows} with a step outside 64 bits, skipped"))
    meta += [("unreadable", err) for err in r.errors]
    return meta


def _sweep_of(r: RunData) -> tuple[str | None, str | None]:
    """(sweep id, why the sweep stopped the run): the run's start names its sweep; older runs
    are found in the sweep's claims (logger/sweeps/store.py), which also say why one stopped."""
    found = None
    if (r.dir.parent / "sweeps").is_dir():
        from logger.sweeps.store import sweep_of_run

        found = sweep_of_run(r.dir.parent.parent, r.project, r.id)
    return (r.sweep_id or (found[0] if found else None)), (found[1] if found else None)


def _stored(r: RunData) -> list[str]:
    """The artifacts and files sections."""
    lines = [_section("artifacts")]
    for a in r.artifacts:
        aliases = f"  [{', '.join(short(x, 30) for x in a.aliases)}]" if a.aliases else ""
        lines.append(f"  {short(a.name, 60)}:v{a.version}  {short(a.type, 30)}  "
                     f"{a.size} bytes  sha256:{short(a.digest, 16)}{aliases}\n")
    if not r.artifacts:
        lines.append("  (none)\n")
    lines.append(_section("files"))
    for f in r.files:
        lines.append(f"  {short(f.path, 120)}  {f.size} bytes  ({short(f.policy, 10)})\n")
    if not r.files:
        lines.append("  (none)\n")
    return lines


def _section(title: str) -> str:
    return f"\n{title}\n"


def _mapping(title: str, values: dict[str, Any]) -> list[str]:
    flat = flatten(values)  # the one flattening: "optimizer.lr", "val/loss.min"
    lines = [_section(title)]
    if not flat:
        return [*lines, "  (none)\n"]
    width = min(40, max(len(short(k, 40)) for k in flat))
    lines += [f"  {short(k, 40):<{width}}  {_exact(v)}\n" for k, v in flat.items()]
    return lines


def _exact(value: Any) -> str:
    """A config or summary value as stored: show is where a user reads a run's exact values
    (6 significant digits made lr 0.000314159265 read 0.000314159); text and media as before
    (cut to 120 characters, made safe)."""
    return fmt_exact(value) if type(value) is float else fmt_value(value, 120, fixed=False)
