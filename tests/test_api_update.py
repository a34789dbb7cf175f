"""`Api().run(...).update()` saves edits to `summary` and `config` (not only name, notes and
tags) as editor segments, read back by a fresh Api; the writer is a real training process."""

from __future__ import annotations

from pathlib import Path

import pytest

from logger import Api
from logger.edit import EditError

from .test_cli_support import python

TRAIN = """
import sys
import logger
r = logger.init(project="p", name="edited", dir=sys.argv[1],
                config={"lr": 0.01, "opt": {"name": "adam", "beta": 0.9}, "epochs": 3})
for step in range(3):
    r.log({"loss": 1.0 / (step + 1), "acc": 0.5, "val": {"acc": 0.7}, "odd": float("nan")})
r.finish()
"""


@pytest.fixture
def run_path(tmp_path: Path) -> tuple[Path, str]:
    root = tmp_path / "runs"
    python(TRAIN, str(root))
    (run,) = Api(root).runs("p")
    return root, f"p/{run.id}"


def _editor_segments(root: Path, path: str) -> set[str]:
    return {p.name for p in (root / path).iterdir() if "editor" in p.name}


def test_summary_and_config_edits_read_back_from_a_fresh_api(run_path: tuple[Path, str]) -> None:
    root, path = run_path
    run = Api(root).run(path)
    run.summary["best_loss"] = 0.25
    run.summary["loss"] = 9.0
    del run.summary["acc"]
    run.summary["val"]["acc"] = 0.8
    run.config["lr"] = 0.5
    run.config["opt"]["name"] = "sgd"
    run.config["note"] = {"by": "hand"}
    run.update()
    assert len(_editor_segments(root, path)) == 2  # one for config, one for summary
    again = Api(root).run(path)
    assert again.summary["best_loss"] == 0.25 and again.summary["loss"] == 9.0
    assert "acc" not in again.summary and again.summary["val"] == {"acc": 0.8}
    assert again.config == {"lr": 0.5, "opt": {"name": "sgd", "beta": 0.9}, "epochs": 3, "note": {"by": "hand"}}
    assert again.summary_flat()["val.acc"] == 0.8


def test_an_update_with_nothing_changed_writes_nothing(run_path: tuple[Path, str]) -> None:
    root, path = run_path
    run = Api(root).run(path)
    assert run.summary["odd"] != run.summary["odd"]  # nan, as logged: not an edit
    assert run.config["epochs"] == 3
    run.update()
    assert _editor_segments(root, path) == set()
    run.summary["loss"] = 2.0
    run.update()
    run.update()  # saved already: the second writes nothing more
    assert len(_editor_segments(root, path)) == 1


def test_deleting_a_config_key_says_what_to_do(run_path: tuple[Path, str]) -> None:
    root, path = run_path
    run = Api(root).run(path)
    del run.config["opt"]["beta"]
    with pytest.raises(EditError, match=r"config key 'opt.beta' was deleted.*set it to None"):
        run.update()
    assert Api(root).run(path).config["opt"] == {"name": "adam", "beta": 0.9}
