"""`runwatch show` prints a run's config and summary values as stored: floats whole (the
shortest form that reads back the same), integers whole; `--json` carries them exactly."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import logger
from tui.cli.runs import cmd_show

LR = 0.000314159265
SEED = 123456789


def _run(root: Path) -> str:
    with logger.init(project="p", dir=str(root), config={"lr": LR, "seed": SEED,
                                                         "opt": {"beta2": 0.999999123}}) as run:
        run.log({"loss": 1 / 3, "div": math.inf})
        return run.path


def _show(root: Path, path: str, as_json: bool = False) -> str:
    out = io.StringIO()
    assert cmd_show(path, str(root), as_json, out) == 0
    return out.getvalue()


def _value(text: str, key: str) -> str:
    return next(line.split()[1] for line in text.splitlines() if line.split()[:1] == [key])


def test_show_and_show_json_print_values_as_stored(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    path = _run(root)
    text = _show(root, path)
    assert _value(text, "lr") == "0.000314159265"
    assert _value(text, "seed") == "123456789"
    assert _value(text, "opt.beta2") == "0.999999123"
    assert _value(text, "loss") == repr(1 / 3)
    assert _value(text, "div") == "inf"
    # --json was exact already (msgspec writes the shortest form that reads back the same)
    record = json.loads(_show(root, path, as_json=True))
    assert record["config"]["lr"] == LR and record["config"]["seed"] == SEED
    assert record["config"]["opt"]["beta2"] == 0.999999123
    assert record["summary"]["loss"] == 1 / 3
