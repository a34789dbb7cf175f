"""`Table`: W&B's table, stored as `files/media/table/<key>_<step>_<sha>.table.json`.

The file holds `{"columns": [...], "data": [[...], ...]}` as W&B's does; the history row holds
`{"_type": "table-file", "path", "sha256", "size", "ncols", "nrows", "log_mode"}`. Media in
cells (an Image per row, as W&B's prediction tables have) are stored as files of their own
and the cell holds their ref. Every row is kept (W&B's run file stops at 10,000).
W&B's log modes: IMMUTABLE and MUTABLE store the table as it is when logged (a table logged
again unchanged reuses its file; W&B would keep an IMMUTABLE table's first content even after a
change, runwatch keeps the change), INCREMENTAL (each log stores the rows added since the last, as an
`incremental-table-file` naming the earlier increments; read back, they are one table; a fresh
one logged in a resumed run continues the run's numbering, as W&B's does).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import msgspec

from .base import Context, Media, media_json, module_of, safe_key

_DEFAULT_COLUMNS = ["Input", "Output", "Expected"]  # W&B's, kept "for legacy reasons"


class Table(Media):
    """Rows and named columns; cells may be numbers, strings, lists or media."""

    _log_type = "table-file"
    MAX_ROWS = 10000
    MAX_ARTIFACT_ROWS = 200000

    def __init__(self, columns: Sequence[Any] | None = None, data: Any = None,
                 rows: Any = None, dataframe: Any = None, dtype: Any = None,
                 optional: Any = True, allow_mixed_types: bool = False,
                 log_mode: str | None = "IMMUTABLE") -> None:
        if log_mode not in ("IMMUTABLE", "MUTABLE", "INCREMENTAL"):
            raise ValueError(f"log_mode {log_mode!r}: use 'IMMUTABLE', 'MUTABLE' or 'INCREMENTAL'")
        self.log_mode = log_mode
        self.data: list[list[Any]] = []
        self._logged: dict[str, Any] | None = None  # the ref of the last log: reused if unchanged
        self._increments: list[tuple[str, str]] = []  # INCREMENTAL: (entry name, path) per log
        self._rows_logged = 0  # INCREMENTAL: rows already in an increment
        if dataframe is None and _is_dataframe(data):
            dataframe = data
        if dataframe is not None:
            self.columns: list[Any] = _check_columns(list(dataframe.columns))
            for row in dataframe.itertuples(index=False, name=None):
                self.add_data(*row)
            return
        self.columns = _check_columns(list(columns) if columns is not None else list(_DEFAULT_COLUMNS))
        source = data if data is not None else rows
        for row in source if source is not None else ():
            self.add_data(*row)

    def add_data(self, *data: Any) -> None:
        """Append one row: one value per column."""
        if len(data) != len(self.columns):
            raise ValueError(f"This table expects {len(self.columns)} columns: {self.columns}, found {len(data)}")
        self.data.append(list(data))

    add_row = add_data

    def add_column(self, name: str, data: Sequence[Any] | Any, optional: bool = False) -> None:
        """Append a column: one value per existing row (or the rows, for an empty table)."""
        if self.log_mode == "INCREMENTAL":
            raise ValueError("add_column() is not supported for tables with log_mode='INCREMENTAL' "
                             "(as in W&B): use log_mode='MUTABLE' or 'IMMUTABLE'")
        if not isinstance(name, str) or name in self.columns:
            raise ValueError(f"column name {name!r} must be a str not already in {self.columns}")
        values = list(data)
        if self.columns and len(values) != len(self.data):
            raise ValueError(f"Expected length {len(self.data)}, found {len(values)}")
        if not self.columns:
            self.data = [[] for _ in values]
        for row, value in zip(self.data, values):
            row.append(value)
        self.columns.append(name)

    def get_column(self, name: Any, convert_to: str | None = None) -> Any:
        """One column's values, as a list or (`convert_to="numpy"`) a NumPy array."""
        if name not in self.columns:
            raise KeyError(f"no column {name!r} in this table; columns are {self.columns}")
        if convert_to not in (None, "numpy"):
            raise ValueError(f"convert_to={convert_to!r}: use None or 'numpy'")
        i = self.columns.index(name)
        col = [row[i] for row in self.data]
        if convert_to == "numpy":
            import numpy as np  # asked for by name

            return np.array(col)
        return col

    def get_index(self) -> list[int]:
        return list(range(len(self.data)))

    def iterrows(self) -> Iterator[tuple[int, list[Any]]]:
        yield from enumerate(self.data)

    def get_dataframe(self) -> Any:
        """The table as a pandas DataFrame (pip install 'runwatch[pandas]')."""
        try:
            import pandas as pd  # type: ignore[import-untyped, unused-ignore]
        except ImportError:
            raise ImportError("Table.get_dataframe() needs pandas: pip install 'runwatch[pandas]'") from None
        return pd.DataFrame(self.data, columns=self.columns)

    def to_ref(self, ctx: Context) -> dict[str, Any]:
        if self.log_mode == "INCREMENTAL":
            if self._logged is not None and self._rows_logged == len(self.data):
                return dict(self._logged)  # no new rows: the last increment, as W&B gives
            return self._increment_ref(ctx)
        logged = self._logged
        if logged is not None and logged["_dir"] == ctx.files_dir:  # unchanged: the same file
            # (encoded as at that log, whose step names its cells' media files)
            was = Context(ctx.files_dir, ctx.key, logged["_step"], ctx.run, ctx.cell, _Held())
            if hashlib.sha256(self._body(was, self.data)).hexdigest() == logged["sha256"]:
                return {k: v for k, v in logged.items() if k not in ("_dir", "_step")}
        body = self._body(ctx, self.data)
        ref = {"_type": self._log_type, **ctx.store("table", body, ".table.json")}
        ref.update(ncols=len(self.columns), nrows=len(self.data), log_mode=self.log_mode)
        self._logged = {**ref, "_dir": ctx.files_dir, "_step": ctx.step}
        if ctx.run is not None:
            _log_run_table(ctx, run_table_name(ctx.run.id, ctx.key), [(ctx.key, ref["path"])])
        return ref

    def _increment_ref(self, ctx: Context) -> dict[str, Any]:
        """W&B's incremental table: this log's file holds the rows added since the last one;
        the ref names the earlier increments, so reading it back gives the whole table."""
        if not self._increments and getattr(ctx.run, "resumed", False):
            self._increments = _continued(ctx.run, ctx.key)  # W&B's resumed numbering
        number = len(self._increments)
        body = self._body(ctx, self.data[self._rows_logged:], increment_num=number)
        ref = {"_type": "incremental-table-file", **ctx.store("table", body, ".table.json"),
               "ncols": len(self.columns), "nrows": len(self.data), "log_mode": self.log_mode,
               "increment_num": number, "previous_increments_paths": [p for _, p in self._increments]}
        self._increments.append((f"{number}-{time.time_ns() // 1_000_000}.{ctx.key}", ref["path"]))
        self._rows_logged, self._logged = len(self.data), ref
        if ctx.run is not None:
            if ctx.run.resumed:
                _logged_here(ctx.run)[ctx.key] = list(self._increments)
            name = run_table_name(ctx.run.id, ctx.key, "incr-")
            _log_run_table(ctx, name, list(self._increments), "wandb-run-incremental-table")
        return ref

    def _body(self, ctx: Context, rows: list[list[Any]], **extra: Any) -> bytes:
        body = {"columns": [c if isinstance(c, (str, int)) else str(c) for c in self.columns],
                "data": [[ctx.cell(ctx, v) for v in row] for row in rows]}
        if self.log_mode == "INCREMENTAL":
            body.update(log_mode=self.log_mode, **extra)
        return media_json(body)

    @classmethod
    def from_json(cls, body: dict[str, Any], source_artifact: Any = None) -> Table:
        """A table read back from its `.table.json` file (media cells stay as their refs)."""
        mode = body.get("log_mode")
        table = cls(columns=list(body.get("columns") or []),
                    log_mode=mode if mode in ("MUTABLE", "INCREMENTAL") else "IMMUTABLE")
        for row in body.get("data") or []:
            if isinstance(row, list) and len(row) == len(table.columns):
                table.data.append(row)
        return table

    def __len__(self) -> int:
        return len(self.data)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Table) and self.columns == other.columns and self.data == other.data

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<Table {len(self.data)} rows x {len(self.columns)} columns>"


class _Held:
    """A spool that writes nothing: what a table's cells would store, when only compared."""

    def write(self, target: Path, data: bytes) -> bool:
        return True

    def call(self, job: Any) -> None:
        pass


def run_table_name(run_id: str, key: str, kind: str = "") -> str:
    """W&B's artifact name for a table logged to a run: `run-<id>-<key>` (`run-<id>-incr-<key>`
    for an incremental one), made name-safe."""
    return re.sub(r"[^a-zA-Z0-9_\-.]", "_", f"run-{run_id}-{kind}{key}")[:128]


def _continued(run: Any, key: str) -> list[tuple[str, str]]:
    """The increments a fresh incremental table logged under `key` in a resumed run follows, as
    W&B's does (it reads the key's summary: `increment_num + 1`, the earlier increments' paths):
    the last one logged here, else the key's last value as the resume read it; [] if none."""
    here = _logged_here(run)
    if key in here:
        return list(here[key])
    last = run._resumed_last.get(key)
    if type(last) is not dict or last.get("_type") != "incremental-table-file":
        return []
    previous = last.get("previous_increments_paths", [])
    paths = [*previous, last.get("path")] if type(previous) is list else []
    if not paths or not all(type(p) is str and _inside(p) for p in paths):
        return []  # not what this writer stores: no increment of it is copied anywhere
    names = _entry_names(run, key)
    return [(names.get(n, f"{n}-0.{key}"), path) for n, path in enumerate(paths)]


def _logged_here(run: Any) -> dict[str, list[tuple[str, str]]]:
    """Key -> the increments of the last incremental table this process logged there (resumed runs)."""
    here = run.__dict__.get("_incremental_tables")
    if here is None:
        here = run._incremental_tables = {}
    return here


def _inside(path: str) -> bool:
    """A path under the run's files/ directory, as a table's ref names its file."""
    parts = PurePosixPath(path).parts
    return bool(parts) and not PurePosixPath(path).is_absolute() and ".." not in parts


def _entry_names(run: Any, key: str) -> dict[int, str]:
    """Increment number -> its entry's name (`<n>-<ms>.<key>`) in the latest version of the key's
    incremental-table artifact, so that the resumed run's versions keep the names given before."""
    from ..artifact_store import latest_version, store_dir

    art_dir = store_dir(run._root, run.project) / run_table_name(run.id, key, "incr-")
    version = latest_version(art_dir)
    if version is None:
        return {}  # the earlier run was killed before it stored one: names are made up
    try:
        files = msgspec.json.decode((art_dir / f"v{version}.json").read_bytes()).get("files")
    except (OSError, msgspec.DecodeError, AttributeError):
        return {}
    suffix = f".{safe_key(key)}.table.json"
    names: dict[int, str] = {}
    for name in files if isinstance(files, dict) else ():
        number = name.split("-", 1)[0]
        if name.endswith(suffix) and number.isascii() and number.isdigit():
            names[int(number)] = name.removesuffix(".table.json")
    return names


def _log_run_table(ctx: Context, name: str, entries: list[tuple[str, str]],
                   kind: str = "run_table") -> None:
    """Also log the table as W&B does, as an artifact holding `<entry>.table.json` files, so
    `api.artifact("project/run-<id>-<key>:latest").get(key)` works. Done on the media thread
    after the table's file (spool.py); its failure costs the artifact only (one warning)."""
    run, key, files_dir = ctx.run, ctx.key, ctx.files_dir

    def log() -> None:
        try:
            with tempfile.TemporaryDirectory(prefix="runwatch-table-") as scratch:
                for entry_name, path in entries:  # "eval/preds.table.json"
                    entry = Path(scratch) / f"{safe_key(entry_name)}.table.json"
                    entry.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(files_dir / path, entry)
                run.log_artifact(scratch, name=name, type=kind)
        except Exception as exc:  # noqa: BLE001 - logging never raises into the training loop
            run._warn_once(f"table-artifact:{name}", f"runwatch: could not log table {key!r} as "
                           f"artifact {name!r} ({type(exc).__name__}: {exc}); it is in the history")

    if ctx.spool is not None:
        ctx.spool.call(log)
    else:
        log()


def _is_dataframe(obj: Any) -> bool:
    return module_of(obj) == "pandas" and type(obj).__name__ == "DataFrame"


def _check_columns(columns: list[Any]) -> list[Any]:
    for col in columns:
        if type(col) not in (str, int):
            raise TypeError(f"table columns must be strings or ints, not {type(col).__name__}: {col!r}")
    return columns
