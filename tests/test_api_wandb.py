"""The Public API shaped as W&B's: File objects, ISO-time filters, order with missing keys last,
and the one flattening of nested config."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import logger
from logger import Api
from logger.query import compile_filter


def _run_with_files(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> logger.Run:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "model.pt").write_bytes(b"weights")
    run = logger.init(project="p")
    run.save("ckpt/model.pt", base_path=".", policy="now")
    Path(run.dir, "notes.txt").write_text("hello")
    run.finish()
    return run


def test_files_are_wandb_file_objects_that_download(root, tmp_path, monkeypatch):
    run = _run_with_files(root, tmp_path, monkeypatch)
    api_run = Api(root).run(run.path)
    files = {f.name: f for f in api_run.files()}
    assert set(files) == {"ckpt/model.pt", "notes.txt"}
    model = files["ckpt/model.pt"]
    assert model.size == 7 and "model.pt" in repr(model)
    out = tmp_path / "down"
    with model.download(root=str(out)) as f:  # W&B: root/name, opened
        assert Path(f.name) == out / "ckpt" / "model.pt"
    assert (out / "ckpt" / "model.pt").read_bytes() == b"weights"
    with pytest.raises(ValueError, match="replace=True"):
        model.download(root=str(out))
    (out / "ckpt" / "model.pt").write_bytes(b"old")
    model.download(root=str(out), replace=True).close()
    assert (out / "ckpt" / "model.pt").read_bytes() == b"weights"
    model.download(root=str(out), exist_ok=True).close()
    assert [f.name for f in api_run.files(names=["notes.txt"])] == ["notes.txt"]
    assert [f.name for f in api_run.files(pattern="%.pt")] == ["ckpt/model.pt"]
    assert api_run.file("notes.txt").size == 5


def test_a_file_name_that_climbs_out_is_never_copied(root, tmp_path, monkeypatch):
    from logger import events as ev
    from logger.writer import write_segment

    run = _run_with_files(root, tmp_path, monkeypatch)
    secret = tmp_path / "secret"
    secret.write_text("no")
    # A crafted segment claims a saved file "../../../secret".
    write_segment(run.run_dir, run.id, "script", [
        ev.FileSaved(path="../" * 4 + "secret", policy="now", size=2, time=time.time())])
    bad = [f for f in Api(root).run(run.path).files() if "secret" in f.name]
    assert bad
    with pytest.raises(ValueError, match="outside"):
        bad[0].download(root=str(tmp_path / "down"))
    assert not (tmp_path / "down").exists() or not any((tmp_path / "down").rglob("secret"))


def _three_runs(root: Path) -> None:
    for name, loss in (("a", 0.5), ("b", None), ("c", 0.1)):
        run = logger.init(project="p", name=name, config={"opt": {"lr": {"a": 3, "b": 1, "c": 2}[name]}},
                          reinit=True)
        if loss is not None:
            run.log({"loss": loss})
        run.finish()


def test_created_at_filters_take_wandbs_iso_strings(root):
    _three_runs(root)
    api = Api(root)
    assert len(api.runs("p", filters={"created_at": {"$gt": "2020-01-01T00:00:00"}})) == 3
    assert len(api.runs("p", filters={"createdAt": {"$lt": "2020-01-01T00:00:00Z"}})) == 0
    assert len(api.runs("p", filters={"created_at": {"$gte": time.time() - 3600,
                                                      "$lte": "2999-01-01T00:00:00+00:00"}})) == 3


def test_order_puts_runs_missing_the_key_last_both_ways(root):
    _three_runs(root)
    api = Api(root)
    assert [r.name for r in api.runs("p", order="+summary_metrics.loss")] == ["c", "a", "b"]
    assert [r.name for r in api.runs("p", order="-summary_metrics.loss")] == ["a", "c", "b"]
    # nested config orders by its flat key, W&B's "config.opt.lr" (and its ".value" form)
    assert [r.name for r in api.runs("p", order="+config.opt.lr")] == ["b", "c", "a"]
    assert [r.name for r in api.runs("p", order="-config.opt.lr.value")] == ["a", "c", "b"]


def test_one_flattening_of_nested_config():
    from logger.flat import flatten

    config = {"bs": {"value": 64}, "opt": {"lr": 0.1, "betas": {"b1": 0.9}}, "empty": {},
              "acc": {0: 0.9}}
    assert flatten(config) == {"bs.value": 64, "opt.lr": 0.1, "opt.betas.b1": 0.9, "empty": {},
                               "acc.0": 0.9}

    class R:
        config = {"acc": {0: 0.9}, "opt": {"lr": 0.1}}
        tags = ()
        name = notes = "r"

        def summary_flat(self):
            return {}

        summary: dict = {}

    assert compile_filter("opt.lr<1")(R())  # an old writer's int key does not break filters
    assert compile_filter("acc.0>0.5")(R())  # and its flat key ("acc.0") is the one to filter on
