"""What `runwatch export` writes (tui/cli/export.py), read from a run's history as columns:
the scan's chunks (steps, times, values) turned into one list per CSV column, no row dict
built for _step, _timestamp and _runtime; a frame of float rows read from its bytes
(logger/float_frames.py) gives its columns as read, no dict at all. Media values become
the absolute paths of their files, as W&B's export writes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain, compress, repeat
from operator import sub
from pathlib import Path
from typing import Any

from logger.float_frames import FloatRows
from logger.history_read import HistoryScan
from logger.media.readback import run_file_path
from logger.rundata import RunData

__all__ = ["BASE", "NUMBERS", "SAME", "Columns", "column_pages", "csv_pages", "has_dict", "row_pages",
           "with_media_paths"]

BASE = ("_step", "_timestamp", "_runtime")


class Columns(list[list[Any]]):
    """A page as its CSV columns (lists of values), in the export's column order; `known`
    (a frame of float rows): each column's NUMBERS (ints or floats only) or SAME (one object
    throughout), so that _csv_lines need not look at every value's type."""

    known: list[str] | None = None


NUMBERS, SAME = "numbers", "same"


_BASE_SET = frozenset(BASE)


def column_pages(runs: list[RunData], keys: list[str], project: bool, every: bool,
                  unlisted: dict[str, None] | None = None) -> Iterator[Any]:
    """What `_rows` gives, as columns straight from the scan's chunks (steps, times, values):
    no row given _step, _timestamp and _runtime, no row read three times more for them; a
    frame of float rows, its columns as read from its bytes (no dict at all). `unlisted`
    (keys from the digests): gets any other key a row holds."""
    known = frozenset(keys) | _BASE_SET
    for run in runs:
        scan = HistoryScan(run.dir, None if every else keys, any_key=True, start=run.created_at)
        for steps, times, rows in scan.chunks(columnar=True):
            if type(rows) is FloatRows:
                values = _table_columns(rows, keys, every, known, unlisted)
            else:
                steps, times, rows = scan.selected(steps, times, rows)
                values, keep = _row_columns(run, rows, keys, every, known, unlisted)
                if keep is not None:  # rows holding no key logged: not written
                    steps, times = list(compress(steps, keep)), list(compress(times, keep))
            if values is None:
                continue
            start = scan.zero
            cols = Columns([steps, times, list(map(sub, times, repeat(start))), *values])
            if type(rows) is FloatRows:
                cols.known = [NUMBERS] * 3 + [SAME if k in rows.consts or k not in rows.keys else NUMBERS
                                              for k in keys]
            del rows, values  # no chunk held while the next is decoded (history_frames)
            if project:
                cols[:0] = [[run.path] * len(steps), [run.name] * len(steps)]
                if cols.known is not None:
                    cols.known[:0] = [SAME, SAME]
            yield cols


def _table_columns(rows: FloatRows, keys: list[str], every: bool, known: frozenset[str],
                   unlisted: dict[str, None] | None) -> list[Any] | None:
    """A FloatRows' columns of `keys` (a key it lacks: None throughout); None where its rows
    hold none of them (or only the base three, `every`)."""
    have = set(rows.keys)
    if not (have - _BASE_SET if every else have.intersection(keys)):
        return None
    if unlisted is not None and not have <= known:
        unlisted.update(dict.fromkeys(k for k in rows.keys if k not in known))
    missing = (None,) * len(rows.steps)
    return [rows.column(k) if k in have else missing for k in keys]


def _row_columns(run: RunData, rows: list[dict[str, Any]], keys: list[str], every: bool,
                 known: frozenset[str], unlisted: dict[str, None] | None) -> tuple[list[Any] | None, list[bool] | None]:
    """The columns of `keys` of rows of values (media as their files' paths; None: no row),
    and with `every`, where a row holds only the base three, which rows the columns keep."""
    keep = None
    if every and rows and min(map(len, rows)) <= len(BASE):  # a row holding no key logged
        keep = [not row.keys() <= _BASE_SET for row in rows]
        rows = list(compress(rows, keep))
    if not rows:
        return None, None
    cols: list[Any] = []
    held = 0  # values of the keys written (None counted as missing: the exact check then)
    for key in keys:
        col = list(map(dict.get, rows, repeat(key)))
        held += len(col) - col.count(None)
        cols.append([_media_path(run.dir, v) if type(v) is dict else v for v in col]
                    if dict in set(map(type, col)) else col)
    if unlisted is not None and sum(map(len, rows)) > held:
        unlisted.update(dict.fromkeys(k for k in chain.from_iterable(rows) if k not in known))
    return cols, keep


def row_pages(runs: list[RunData], keys: list[str] | None, project: bool,
              every: bool = False) -> Iterator[list[dict[str, Any]]]:
    """Pages of rows: every row of each run, or those holding any of `keys` (their values).
    `every`: `keys` are every key logged, so a row holds one unless it holds only the base
    three (a step logged with no value): the decoded rows are kept, not rebuilt with `keys`."""
    for run in runs:
        scan = HistoryScan(run.dir, None if every else keys, any_key=True, start=run.created_at)
        for page in scan.pages():
            if every and min(map(len, page)) <= len(BASE):
                page = [row for row in page if len(row) > len(BASE)]
                if not page:
                    continue
            if project:
                page = [{"run": run.path, "name": run.name, **row} for row in page]
            yield [with_media_paths(run.dir, row) for row in page] if has_dict(page) else page


def csv_pages(runs: list[RunData], keys: list[str], project: bool, every: bool,
              unlisted: dict[str, None] | None) -> Iterator[Any]:
    """CSV's pages: columns from the scan (no row built), or rows where a project's runs
    logged a key named `run` or `name` (its own columns). `unlisted` gets any key a row holds
    that `keys` lack."""
    if not (project and {"run", "name"} & set(keys)):
        return column_pages(runs, keys, project, every, unlisted)
    rows = row_pages(runs, keys, project, every)
    return rows if unlisted is None else _noting(rows, {"run", "name", *BASE, *keys}, unlisted)


def _noting(pages: Iterator[list[dict[str, Any]]], known: set[str],
            unlisted: dict[str, None]) -> Iterator[list[dict[str, Any]]]:
    """`pages` as they are, any key of theirs not `known` put in `unlisted`."""
    for page in pages:
        if not set(chain.from_iterable(page)) <= known:
            unlisted.update(dict.fromkeys(k for k in chain.from_iterable(page) if k not in known))
        yield page


def has_dict(page: list[dict[str, Any]]) -> bool:
    return dict in set(map(type, chain.from_iterable(map(dict.values, page))))


def with_media_paths(run_dir: Path, row: dict[str, Any]) -> dict[str, Any]:
    if any(type(v) is dict for v in row.values()):
        return {k: _media_path(run_dir, v) if type(v) is dict else v for k, v in row.items()}
    return row


def _media_path(run_dir: Path, value: dict[str, Any]) -> Any:
    """A media ref as the absolute path of its file (paths, for a list of media); any other
    dict (a histogram, a nested value, a ref naming a file outside files/) as it is."""
    if "_type" not in value:
        return value
    path, names = value.get("path"), value.get("filenames")
    try:
        if isinstance(path, str):
            return str(run_file_path(run_dir, path))
        if isinstance(names, list) and names and all(isinstance(n, str) for n in names):
            return [str(run_file_path(run_dir, n)) for n in names]
    except ValueError:  # a path that would leave files/: written by something else
        return value
    return value
