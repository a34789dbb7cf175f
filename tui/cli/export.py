"""`runwatch export`: a run's (or a project's) history as CSV, JSON lines or Parquet.

Columns: `_step, _timestamp, _runtime, <keys...>` in the order the keys were first logged;
`_runtime` is seconds since the run started (its created_at, as W&B's and the summary's).
A PROJECT goes into one file with two more columns first, `run` (project/id) and `name`,
and the union of every run's keys. Rows come from logger.history_read, a chunk of frames at
a time (one per step, the last write winning where a resumed run rewrote steps), so memory
stays bounded however long the run; CSV is written a column at a time per chunk
(tui/cli/export_columns.py), Parquet a row group (ROW_GROUP rows) at a time. The keys come
from the listing's digests (what `ls` shows), so CSV is one pass over the frames; a pass for
the keys first where those cannot give the rows' order (steps that go back), and to a file
a second write with that pass where a row holds a key they do not name (a damaged or edited
snapshot; to a pipe, already written, export names those keys and fails).
A media value (an Image, a Table, a list of images, ...) is written as the absolute path of
its file under the run's files/ (a list of paths for a list of media), as W&B's export does.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
from collections.abc import Callable, Iterator
from itertools import chain, repeat
from pathlib import Path
from typing import Any, TextIO

from logger.history_read import HistoryScan
from logger.reader import RootReader
from logger.rundata import RunData
from logger.textsafe import safe_text, terminal_safe

from ..fmt import json_line, to_json
from .common import CliError, match_runs, pick_run, root_path, split_run_path
from .export_columns import BASE, SAME, Columns, csv_pages, row_pages
from .parser import JSON_FLOATS, ROOT_HELP, RUN_HELP, Command, split_keys

FORMATS = ("csv", "jsonl", "parquet")
_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
             ".parquet": "parquet", ".pq": "parquet"}
PARQUET_HINT = "pip install 'runwatch[parquet]' (or: pip install pyarrow)"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", metavar="RUN|PROJECT", help=RUN_HELP + "; or a project name")
    p.add_argument("--root", help=ROOT_HELP)
    p.add_argument("-f", "--format", choices=("csv", "jsonl", "parquet"),
                   help="default: from -o's suffix, else csv; jsonl writes " + JSON_FLOATS)
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.add_argument("-m", "--metrics", action="append", default=[], metavar="KEYS",
                   help="only these keys, comma-separated")


def run(args: argparse.Namespace, out: TextIO) -> int:
    return cmd_export(args.target, args.root, args.format, args.output, split_keys(args.metrics), out)


EXPORT = Command("export", "a run's or a project's history as csv, jsonl or parquet", """\
  runwatch export brisk-otter-7                   csv on stdout
  runwatch export brisk-otter-7 -o run.jsonl      format from the suffix
  runwatch export cat-classification --format parquet -o cats.parquet
  runwatch export brisk-otter-7 -m loss,val/acc""", configure, run,
                 description="Columns: _step,_timestamp,_runtime (s since the run started),<keys...>;\n"
                             "one row per step. A "
                             "PROJECT goes\ninto one file with `run` (project/id) and `name` "
                             "columns first. parquet needs\npyarrow: pip install 'runwatch[parquet]'.",
                 output="data")


def cmd_export(ref: str, root_arg: str | None, fmt: str | None, output: str | None,
               metrics: list[str], out: TextIO) -> int:
    fmt = _format(fmt, output, out)
    reader, runs, project = find_target(ref, root_arg)
    listed = _listed_keys(runs) if metrics or fmt != "jsonl" else None
    keys = (_keys(runs, metrics, listed) if metrics or fmt != "jsonl" else None)
    if metrics and not keys:
        raise CliError(f"--metrics: none of {', '.join(safe_text(m) for m in metrics)} was logged "
                       f"by {safe_text(ref)}")
    every = not metrics and keys is not None  # every key logged: rows as decoded, none rebuilt
    rows: Iterator[Any] = row_pages(runs, keys, project, every)
    unlisted: dict[str, None] = {}  # keys a row held that the listing's digests did not name
    if fmt == "csv":
        rows = csv_pages(runs, keys or [], project, every, unlisted if every and listed is not None else None)
    columns = (["run", "name"] if project else []) + list(BASE) + (keys or [])
    to_tty = output is None and out.isatty()
    if fmt == "parquet":
        count = _write_parquet(lambda: row_pages(runs, keys, project, every), columns, output,
                               lambda: _keys(runs, metrics))
    elif output is None:
        # Byte-exact to a pipe, as logged; escaped only for a person at a terminal.
        count = _write_text(fmt, rows, columns, terminal_safe(out) if to_tty else out, to_tty)
    else:
        count = _write_file(fmt, rows, columns, output)
        if unlisted:
            # A file can be written again: with every key the rows hold, from a pass over
            # them (what a pipe, already written, cannot have), nothing left out.
            keys, unlisted = _keys(runs, metrics), {}
            count = _write_file(fmt, csv_pages(runs, keys, project, every, None),
                                (["run", "name"] if project else []) + list(BASE) + keys, output)
    reader.count_damage(runs)  # every damaged frame, those before the snapshots too (as tail)
    for note in _skip_notes(runs):
        print(note, file=sys.stderr)
    if output is not None:
        what = f"project {safe_text(ref)} ({_plural(len(runs), 'run')})" if project else safe_text(runs[0].path)
        print(f"runwatch: wrote {_plural(count, 'row')} of {what} to {safe_text(output)}", file=sys.stderr)
    if unlisted:  # a snapshot that does not list every key its rows hold: a damaged or edited file
        names = ", ".join(safe_text(str(k)) for k in list(unlisted)[:10])
        print(f"runwatch: export: rows hold keys the runs' snapshots do not list, left out of the CSV: {names} "
              f"(export them with -m, or to a file with -o)", file=sys.stderr)
        return 1
    return 0


def _format(fmt: str | None, output: str | None, out: TextIO) -> str:
    """The format asked for, else -o's suffix's, else csv; parquet only where it can go."""
    if fmt is None:
        suffix = Path(output).suffix.lower() if output else ""
        if suffix and suffix not in _SUFFIXES:
            raise CliError(f"cannot tell the format from {safe_text(output)!r}: pass "
                           "--format csv, jsonl or parquet (or name the file .csv, .jsonl, .parquet)")
        fmt = _SUFFIXES.get(suffix, "csv")
    if fmt == "parquet":
        _need_pyarrow()
        if output is None and out.isatty():
            raise CliError("parquet is binary and stdout is a terminal: give -o FILE.parquet")
    return fmt


def _write_file(fmt: str, pages: Iterator[Any], columns: list[str], output: str) -> int:
    """CSV or JSON lines to the file `output` (its rows written)."""
    try:
        # surrogateescape: a run directory named in bytes that are not UTF-8 is written
        # back as those bytes (JSON lines escape it instead: JSON must be UTF-8).
        with open(output, "w", newline="", encoding="utf-8", errors="surrogateescape") as f:
            return _write_text(fmt, pages, columns, f, False)
    except OSError as exc:
        raise CliError(f"cannot write {safe_text(output)}: {exc.strerror or exc}") from None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _skip_notes(runs: list[RunData]) -> list[str]:
    """What the export passed over, run by run, in show's and tail's words: damaged frames,
    rows whose step a history cannot hold."""
    out = []
    for run in runs:
        name = safe_text(run.path)
        if run.skipped_frames:
            out.append(f"runwatch: run {name}: {run.skipped_frames} damaged frame(s) skipped while "
                       "reading; the rest of the run reads normally")
        if run.dropped_rows:
            out.append(f"runwatch: run {name}: {run.dropped_rows} row(s) with a step outside 64 bits, "
                       "skipped (a history cannot hold them)")
    return out


def find_target(ref: str, root_arg: str | None) -> tuple[RootReader, list[RunData], bool]:
    """The listing's reader, the runs to export, and whether `ref` named a whole project."""
    ref, root_arg = split_run_path(ref, root_arg)
    from ..tail_replay import listing_reader  # here: tail_replay imports tui.cli (import cycle)

    reader = listing_reader(root_path(root_arg))  # names and states (as ls): history is streamed later
    projects = {r.project for r in reader.runs.values()}
    found = match_runs(reader.runs, ref)
    if ref in projects and "/" not in ref:
        if found:
            raise CliError(f"{safe_text(ref)!r} is both a project and a run; name the run as "
                           f"project/id ({', '.join(safe_text(r.path) for r in found[:5])})")
        runs = sorted((r for r in reader.runs.values() if r.project == ref),
                      key=lambda r: r.created_at)
        return reader, runs, True
    return reader, [pick_run(reader, ref)], False


def _listed_keys(runs: list[RunData]) -> list[str] | None:
    """Every key the runs logged, first logged first, from the listing's digests (each
    segment's snapshot and the rows after it, as `ls` shows them): no pass over the rows.
    None where that order may not be the rows' (a run whose writers' steps overlap or go
    back: rows are re-ordered, and a key first met is not the first logged) or a digest
    counts rows and no key (a snapshot of an older writer's, or one made by hand)."""
    keys: dict[str, None] = {}
    for run in runs:
        digest = run.digest()
        if digest.rows and not digest.keys or digest.rows and not HistoryScan(run.dir).streams:
            return None
        keys.update(dict.fromkeys(digest.keys))
    return list(keys)


def _keys(runs: list[RunData], metrics: list[str], listed: list[str] | None = None) -> list[str]:
    """Every key the runs logged, in the order first logged: `listed` (the digests'), else
    from a pass over the history (and for a metric asked for that they do not name)."""
    if listed is not None and not set(metrics) <= set(listed):
        listed = None
    keys: dict[str, None] = dict.fromkeys(listed or ())
    for run in runs if listed is None else ():  # chunks, not pages: no row given its _step, ...
        for _steps, _times, rows in HistoryScan(run.dir).chunks():
            keys.update(dict.fromkeys(chain.from_iterable(rows)))
    for base in BASE:
        keys.pop(base, None)
    if metrics:
        return [m for m in metrics if m in keys]
    return list(keys)


def _cell(value: Any, to_tty: bool) -> Any:
    if value is None:
        return ""
    kind = type(value)
    if kind is float:
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return repr(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is str:
        return safe_text(value) if to_tty else value
    if kind is int:
        return value
    text = to_json(value).decode()
    return safe_text(text) if to_tty else text


def _write_text(fmt: str, pages: Iterator[Any], columns: list[str], f: TextIO,
                to_tty: bool) -> int:
    count = 0
    if fmt == "jsonl":
        for page in pages:
            # _step, _timestamp, _runtime first, as ever (streamed rows carry them last).
            f.write("".join(json_line({**{k: row[k] for k in _FIRST if k in row}, **row}) for row in page))
            count += len(page)
        return count
    writer = csv.writer(f, lineterminator="\n")
    writer.writerow([safe_text(c) if to_tty else c for c in columns])
    for page in pages:
        cols = page if type(page) is Columns else [list(map(dict.get, page, repeat(c))) for c in columns]
        text = _csv_lines(cols, to_tty)
        if text is None:
            writer.writerows(zip(*(_cells(col, to_tty) for col in cols)))
        else:
            f.write(text)
        count += len(cols[0])
    return count


def _csv_lines(cols: list[list[Any]], to_tty: bool) -> str | None:
    """A page as CSV text by one `%` (what csv.writer writes: floats by repr, ints by str) when
    every column holds numbers, or one value throughout (a run's name, a key no row of the
    page holds: its cell made once); None when a column holds anything else (text, None
    among values, a list): csv.writer writes that page."""
    cells: list[str] = []
    args: list[list[Any]] = []
    known = getattr(cols, "known", None) or repeat(None)
    for col, kind in zip(cols, known):
        first = col[0]
        if kind is SAME and (first or type(first) is str or first is None):  # not 0.0: the cell cache's keys
            cells.append(_template_cell(first, to_tty))
            continue
        if kind is not None:  # numbers
            cells.append("%r")
            args.append(col)
            continue
        kinds = set(map(type, col))
        if kinds <= _NUMBERS and not (first and col[-1] == first and col.count(first) == len(col)):
            cells.append("%r")
            args.append(col)
        elif len(kinds) == 1 and (first or type(first) is str or first is None) and col.count(first) == len(col):
            cells.append(_template_cell(first, to_tty))  # not 0.0: -0.0 equals it
        else:
            return None
    line = ",".join(cells) + "\n"
    return (line * len(cols[0])) % tuple(chain.from_iterable(zip(*args)))


_TEMPLATE_CELLS: dict[tuple[type, Any, bool], str] = {}


def _template_cell(value: Any, to_tty: bool) -> str:
    """_one_cell's text for a `%` template, made once per value (a value held for frames on
    end comes once a page: ~0.1x of the floor on 1M rows with 7 held)."""
    key = (type(value), value, to_tty)  # the type: 1, 1.0 and True are equal keys
    try:
        return _TEMPLATE_CELLS[key]
    except KeyError:
        pass
    except TypeError:  # a list: no key
        return _one_cell(value, to_tty).replace("%", "%%")
    if len(_TEMPLATE_CELLS) > 1024:
        _TEMPLATE_CELLS.clear()
    text = _TEMPLATE_CELLS[key] = _one_cell(value, to_tty).replace("%", "%%")
    return text


def _one_cell(value: Any, to_tty: bool) -> str:
    """One value as csv.writer writes it in a row of two or more (quoted where it must be)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([_cell(value, to_tty), "x"])
    return out.getvalue()[: -len(",x\n")]


_FIRST = ("run", "name", *BASE)
_AS_IS = {int, float, type(None)}  # csv writes these as _cell would: repr, str, ""
_FLOAT = {float}
_NUMBERS = {int, float}


def _cells(col: list[Any], to_tty: bool) -> list[Any]:
    """One column of a page as CSV cells; numbers (the bulk) pass through untouched."""
    kinds = set(map(type, col))
    if kinds == _FLOAT:
        first = col[0]  # the same float on every row (a learning rate): its text made once
        if first and col[-1] == first and col.count(first) == len(col):  # not 0.0: -0.0 equals it
            return [repr(first)] * len(col)
        return col
    if kinds <= _AS_IS or (not to_tty and kinds <= _AS_IS | {str}):
        return col
    return [_cell(v, to_tty) for v in col]


def _need_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise CliError(f"parquet export needs pyarrow, which is not installed: {PARQUET_HINT}") from None


ROW_GROUP = 1 << 16  # rows a Parquet row group holds: what export holds at once, whatever the run


def _write_parquet(pages: Callable[[], Iterator[list[dict[str, Any]]]], columns: list[str],
                   output: str | None, every_key: Callable[[], list[str]]) -> int:
    """The rows as Parquet, a row group at a time: a first pass types each column from every
    value (as one pa.array of the whole column would), the second converts and writes. A key
    the rows hold that `columns` lack (a snapshot that does not list it) is written too, the
    columns then in the order `every_key` (a pass for the keys) gives."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema, text = _arrow_schema(pages(), columns, every_key)
    count = held_rows = 0
    held: list[Any] = []
    try:
        with pq.ParquetWriter(sys.stdout.buffer if output is None else output, schema) as writer:
            for page in pages():
                held.append(_arrow_batch(page, schema, text))
                held_rows += len(page)
                count += len(page)
                if held_rows >= ROW_GROUP:
                    writer.write_table(pa.Table.from_batches(held, schema), row_group_size=held_rows)
                    held, held_rows = [], 0
            if held or not count:
                writer.write_table(pa.Table.from_batches(held, schema))
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        raise CliError(f"cannot write {safe_text(output or 'stdout')}: {exc}") from None
    return count


def _arrow_schema(pages: Iterator[list[dict[str, Any]]], columns: list[str],
                  every_key: Callable[[], list[str]]) -> tuple[Any, set[str]]:
    """Each column's Arrow type, unified over every page's (ints and floats: double); a column
    no one type holds (mixed kinds) is written as text, and named in the set returned."""
    import pyarrow as pa

    types = {c: pa.null() for c in columns}
    text: set[str] = set()
    extra = False  # a row held a key `columns` lack
    for page in pages:
        if not set(chain.from_iterable(page)) <= types.keys():
            extra = True
            types.update((k, pa.null()) for k in chain.from_iterable(page) if k not in types)
        for c in types:
            if c in text:
                continue
            try:
                kind = pa.array(list(map(dict.get, page, repeat(c)))).type
                if kind != types[c]:
                    both = [pa.schema([(c, types[c])]), pa.schema([(c, kind)])]
                    types[c] = pa.unify_schemas(both, promote_options="permissive").field(c).type
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
                text.add(c)
    if extra:
        columns = columns[: columns.index(BASE[0]) + len(BASE)] + every_key()
    return pa.schema([(c, pa.string() if c in text else types[c]) for c in columns]), text


def _arrow_batch(page: list[dict[str, Any]], schema: Any, text: set[str]) -> Any:
    import pyarrow as pa

    arrays = []
    for field in schema:
        values = list(map(dict.get, page, repeat(field.name)))
        if field.name in text:  # mixed types: kept as text
            values = [None if v is None else v if isinstance(v, str) else to_json(v).decode() for v in values]
        arrays.append(pa.array(values, type=field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
