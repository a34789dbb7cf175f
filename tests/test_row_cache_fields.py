"""The rows cache (tui/model/row_cache.py) keeps every field a RunView has: a field added to
RunView but not to Row would silently be dropped from every run a reopen lists from rows."""

from __future__ import annotations

import dataclasses
from array import array
from pathlib import Path

import msgspec

from tui.model import row_cache
from tui.model.runview import RunView

ROW_ONLY = {"segs", "dir_id", "alerts"}  # what the row adds: where it came from
VIEW_ONLY = {"dir", "serial"}  # what a view gets anew: its directory, a serial of its own


def _view(config: dict, flat: dict) -> RunView:  # type: ignore[type-arg]
    return RunView("p/r1", "r1", "p", Path("/root/p/r1"), "name", "notes", ("a", "b"), "g",
                   "train", config, flat, {"loss": 0.5, "_step": 9}, "finished", 0, None, 9,
                   1.0, 2.0, 3.0, 7, ("loss", "acc"), {"loss": array("d", [1.0, 0.5])}, 2,
                   ("bad frame",), "GPU 1%", "last line", "sweep-1", 4.0, 0.1, True)


def test_row_has_every_field_of_runview_and_nothing_else_unaccounted() -> None:
    view_fields = {f.name for f in dataclasses.fields(RunView)} - VIEW_ONLY
    row_fields = set(row_cache.Row.__struct_fields__) - ROW_ONLY
    assert row_fields == view_fields


def test_a_view_comes_back_from_its_row_as_it_was() -> None:
    for config, flat in (({"lr": 0.1}, {"lr": 0.1}),
                         ({"opt": {"lr": 0.1}}, {"opt.lr": 0.1})):
        view = _view(config, flat)
        row = row_cache.to_row(view, [row_cache.RowSeg("s.rws", 1, 2, 3, 4)], (1, 2, 3), 0,
                               {"loss": [1.0, 0.5], "acc": []})
        row = msgspec.msgpack.decode(msgspec.msgpack.encode(row), type=row_cache.Row)
        back = row_cache.to_view(row, view.dir, ("loss", "acc"))
        for field in dataclasses.fields(RunView):
            if field.name not in ("serial", "sparks"):
                assert getattr(back, field.name) == getattr(view, field.name), field.name
        assert {k: list(v) for k, v in back.sparks.items()} == {"loss": [1.0, 0.5], "acc": []}
