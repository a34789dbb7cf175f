"""tail's lines as they are made and written: run labels, a line per event, Log lines in bulk
(tail_bulk), the `latest` line, and the escaped stream they go out on, a batch per write.
Which events print, and when, is tui/tail.py (Tail, built on TailLines).
"""

from __future__ import annotations

import codecs
import fnmatch
import os
from typing import TYPE_CHECKING, Any, TextIO, cast

from logger import events as ev
from logger.rundata import RunData
from logger.textsafe import terminal_safe

from .fmt import fmt_value, json_line, short
from .tail_bulk import (
    Block,
    Clock,
    Noted,
    float_text,
    grouped_text,
    json_block,
    json_floats,
    json_text,
    key_groups,
    log_block,
    log_columns,
    log_text,
)
from .tail_json import json_float_lines
from .tail_lines import latest_line, start_line

if TYPE_CHECKING:
    from .tail import TailOptions
    from .tail_floats import FloatRows

LABEL_MAX = 48
_PLAIN = bytes(range(0x20, 0x7F)) + b"\n\t"  # what needs no escape (logger.textsafe passes it too)


def _bytes_under(out: TextIO) -> Any:
    """The binary stream under a text stream that writes ASCII as itself (stdout: UTF-8, "\n"
    kept), or None (a StringIO, another encoding, a platform that writes "\r\n")."""
    stream = getattr(out, "stream", out)  # a TerminalWriter's own
    buffer = getattr(stream, "buffer", None)
    encoding = getattr(stream, "encoding", None)
    if buffer is None or not isinstance(encoding, str) or os.linesep != "\n":
        return None
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return None
    return buffer if name in ("utf-8", "ascii") and hasattr(buffer, "write") else None


class TailLines:
    """Lines in `self._lines` until `emit` writes them as one string."""

    def __init__(self, options: TailOptions, out: TextIO) -> None:
        self.o = options
        self.out = terminal_safe(out)  # escapes what a line forgot, whoever calls Tail
        self._raw = _bytes_under(out)  # where plain ASCII goes as the bytes it was checked as
        self._lines: list[str | bytes] = []
        self._label: dict[str, tuple[str, str]] = {}  # path -> (name, label)
        self._width = 0
        self._keys: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.noted: dict[str, Noted] = {}  # path -> the last values and step its lines showed
        self.clock = Clock()  # stamps and ISO times, each second formatted once

    def keys_for(self, keys: tuple[str, ...]) -> tuple[str, ...]:
        """Which of a row's keys to print, in `--metrics` order (cached per key set)."""
        shown = self._keys.get(keys)
        if shown is None:
            patterns = self.o.metrics
            if not patterns:
                shown = tuple(k for k in keys if not k.startswith("_"))
            else:
                out: list[str] = []
                for pattern in patterns:
                    out += [k for k in keys if k not in out and (k == pattern or fnmatch.fnmatchcase(k, pattern))]
                shown = tuple(out)
            self._keys[keys] = shown
        return shown

    def emit(self) -> None:
        """Write the lines made so far, flushed. Printable ASCII (nearly always) goes to the
        stream's bytes as checked, encoded once; anything else through the escaping writer.
        Bytes among the lines are printable ASCII already checked (tail_json's): as they are."""
        if not self._lines:
            return
        lines, self._lines = self._lines, []
        text: list[str] = []
        for part in lines:
            if type(part) is bytes:
                self._write("".join(text))
                text.clear()
                self._write_plain(part)
            else:
                text.append(cast(str, part))
        del lines
        self._write("".join(text))

    def _write(self, text: str) -> None:
        if not text:
            return
        raw = self._raw
        if raw is not None and text.isascii():
            data = text.encode("ascii")
            del text
            if not data.translate(None, _PLAIN):
                self._write_plain(data)
                return
            text = data.decode("ascii")
        self.out.write(text)
        self.out.flush()

    def _write_plain(self, data: bytes) -> None:
        """Printable ASCII, checked: to the stream's bytes if it has them, else as text."""
        raw = self._raw
        if raw is None:
            self.out.write(data.decode("ascii"))
            self.out.flush()
            return
        self.out.flush()  # whatever the text layer holds goes first
        raw.write(data)
        raw.flush()

    def _label_of(self, run: RunData) -> str:
        name = run.name
        cached = self._label.get(run.path)
        if cached is None or cached[0] != name:
            label = short(f"{run.project}/{name}", LABEL_MAX)
            self._label[run.path] = cached = (name, label)
            self._width = max(self._width, len(label))
        return cached[1]

    def _line(self, run: RunData, t: float, kind: str, text: str, fields: dict[str, Any]) -> None:
        if self.o.json:
            obj = {"kind": kind, "run": run.path, "project": run.project, "id": run.id,
                   "name": run.name, "time": self.clock.iso(t), "ts": t}
            obj.update(fields)
            self._lines.append(json_line(obj))
        else:
            label = self._label_of(run)
            self._lines.append(f"{self.clock.stamp(t)}  {label:<{self._width}}  {text}\n")

    def _log_line(self, run: RunData, step: int, t: float, flat: dict[str, Any]) -> None:
        keys = self.keys_for(tuple(flat))
        if not keys:
            return
        if self.o.json:
            self._line(run, t, "log", "", {"step": step, "values": {k: flat[k] for k in keys}})
            return
        parts = "  ".join(f"{short(k, 40)} {fmt_value(flat[k])}" for k in keys)
        self._line(run, t, "log", f"step {step}  {parts}", {})

    def _log_block(self, run: RunData, logs: list[Any], since: float | None) -> None:
        """Lines for many Log events at once, a key set at a time (tail_bulk); what `latest`
        shows noted."""
        if since is not None:
            logs = [e for e in logs if e.time >= since]
        if logs:
            self.log_rows(run, *log_columns(logs))

    def log_rows(self, run: RunData, steps: list[int], times: list[float], rows: list[dict[str, Any]]) -> None:
        """Lines for rows given as columns (steps, times, flat values), in that order."""
        groups = key_groups(rows)
        self.noted.setdefault(run.path, Noted()).note(steps, rows, len(groups) == 1)
        text: Block
        block: Block
        if self.o.json:
            head = {"run": run.path, "project": run.project, "id": run.id, "name": run.name}
            text = lambda k, s, t, r: json_text(head, k, self.clock.isos(t), t, s, r)  # noqa: E731
            block = lambda k, s, t, r: json_block(head, k, self.clock.isos(t), t, s, r)  # noqa: E731
        else:
            prefix = f"{self._label_of(run):<{self._width}}"
            text = lambda k, s, t, r: log_text(prefix, k, self.clock.stamps(t), s, r)  # noqa: E731
            block = lambda k, s, t, r: log_block(prefix, k, self.clock.stamps(t), s, r)  # noqa: E731
        self._lines.append(grouped_text(groups, self.keys_for, steps, times, rows, text, block))

    def log_floats(self, run: RunData, rows: FloatRows) -> None:
        """Lines for rows of float values (tail_floats): log_rows' lines, from flat values."""
        shown = self.keys_for(rows.keys)
        if self.o.json:
            head = {"run": run.path, "project": run.project, "id": run.id, "name": run.name}
            fast = json_float_lines(head, shown, rows, self.clock) if shown else (b"", True)
            text = None if fast is None else fast[0] if fast[1] else fast[0].decode()
            if text is None:  # a NaN, an odd time: msgspec's lines, if they hold no null
                text = json_floats(head, shown, self.clock.isos(rows.times), rows.times, rows.steps,
                                   list(map(rows.column, shown)))
            if text is None:
                self.log_rows(run, rows.steps, rows.times, rows.dicts())
                return
            self._lines.append(text)
        self.noted.setdefault(run.path, Noted()).note_last(rows.steps, rows.last())
        if shown and not self.o.json:
            prefix = f"{self._label_of(run):<{self._width}}"
            self._lines.append(float_text(prefix, shown, self.clock.stamps(rows.times), rows.steps,
                                          list(map(rows.column, shown))))

    def _iso(self, t: float) -> str | None:
        return self.clock.iso(t)

    def _start_line(self, run: RunData, e: ev.RunStart) -> None:
        self._line(run, e.time, *start_line(run, e))

    def _latest(self, run: RunData, replayed: bool = False) -> None:
        """The `latest` line; after a replay (tail_replay), what its lines showed, else (no row
        printed: --every, --since) the run's last values as its reader knows them."""
        noted = self.noted.get(run.path)
        if noted is not None and (replayed or not len(run.history)):
            values, step = noted.last, noted.step
        else:
            values, step = {k: c.last_value for k, c in run.history.columns.items()}, run.step
        keys = self.keys_for(tuple(values))
        self._line(run, run.updated_at or run.created_at, *latest_line(run, keys, values, step))
