"""W&B's client semantics in the script and in what readers see (wandb 0.31 / wandb-core):
define_metric summaries and step_sync, mode="disabled", and the one tag rule."""

from __future__ import annotations

from pathlib import Path

import pytest

import logger
from logger import Api, ConfigError
from logger.edit import edit_tags
from logger.reader import RootReader


def _api_run(root: Path, run: logger.Run):
    return Api(root).run(run.path)


def test_run_summary_in_the_script_shows_define_metric_aggregates(root):
    run = logger.init(project="p")
    run.define_metric("loss", summary="min")
    run.define_metric("acc", summary="max,mean")
    for loss, acc in [(3, 0.5), (1, 0.7), (2, 0.9)]:
        run.log({"loss": loss, "acc": acc, "plain": loss})
    assert run.summary["loss"] == {"min": 1}
    assert run.summary["acc"] == {"max": 0.9, "mean": pytest.approx(0.7)}
    assert run.summary["plain"] == 2
    assert dict(run.summary.items())["loss"] == {"min": 1}
    run.finish()
    assert _api_run(root, run).summary["loss"] == {"min": 1}


def test_summary_none_hides_the_key_in_the_script_and_for_readers(root):
    run = logger.init(project="p")
    run.define_metric("noise", summary="none")
    run.define_metric("val/*", summary="none")
    run.log({"noise": 1, "val/x": 2, "kept": 3})
    assert "noise" not in run.summary and "val/x" not in run.summary
    assert set(run.summary.keys()) == {"kept"}
    with pytest.raises(KeyError):
        run.summary["noise"]
    assert run.summary.get("noise") is None
    run.finish()
    summary = _api_run(root, run).summary
    assert "noise" not in summary and "val/x" not in summary and summary["kept"] == 3


def test_a_second_define_metric_adds_aggregations(root):
    run = logger.init(project="p")
    run.define_metric("loss", summary="min")
    run.define_metric("loss", summary="max")
    run.define_metric("loss", step_metric="epoch")  # no summary: keeps what was set
    for loss in (3.0, 1.0, 2.0):
        run.log({"loss": loss})
    assert run.summary["loss"] == {"min": 1.0, "max": 3.0}
    run.finish()
    assert _api_run(root, run).summary["loss"] == {"min": 1.0, "max": 3.0}


def test_summary_best_with_a_goal_keeps_the_last_value(root):
    # Deprecated in W&B and still accepted; wandb-core tracks nothing for "best".
    run = logger.init(project="p")
    run.define_metric("loss", summary="best", goal="minimize")
    run.define_metric("acc", summary="best,max", goal="max")
    for loss in (3.0, 1.0, 2.0):
        run.log({"loss": loss, "acc": loss})
    assert run.summary["loss"] == 2.0 and run.summary["acc"] == {"max": 3.0}
    run.finish()
    summary = _api_run(root, run).summary
    assert summary["loss"] == 2.0 and summary["acc"] == {"max": 3.0}
    with pytest.raises(ValueError, match="goal 'up'"):
        logger.init(project="q").define_metric("x", summary="best", goal="up")


def test_the_reader_keeps_the_last_value_for_a_best_only_metric_from_any_writer(root):
    from logger import events as ev
    from logger.writer import write_segment

    run = logger.init(project="p")
    run.log({"loss": 1.5})
    run.finish()
    write_segment(run.run_dir, run.id, "script", [
        ev.DefineMetric(name="loss", step_metric=None, summary="best", hidden=False, time=0.0)])
    reader = RootReader(root)
    reader.scan()
    assert reader.runs[f"{run.project}/{run.id}"].summary["loss"] == 1.5


def test_step_metric_is_filled_into_rows_that_lack_it(root):
    run = logger.init(project="p")
    run.define_metric("epoch")
    run.define_metric("val/*", step_metric="epoch")
    run.define_metric("train_loss", step_metric="epoch", step_sync=False)
    run.log({"val/loss": 9.0})              # before any epoch: W&B fills 0
    run.log({"epoch": 1, "train_loss": 0.5})
    run.log({"val/loss": 1.0})
    run.log({"val/acc": 0.7}, commit=False)
    run.log({"other": 1})
    run.log({"epoch": 2})
    run.log({"train_loss": 0.4})            # step_sync=False: not filled
    run.log({"val/loss": 0.5, "epoch": 5})  # given: kept as given
    run.finish()
    rows = list(_api_run(root, run).scan_history())
    pairs = [(r.get("epoch"), r.get("val/loss"), r.get("val/acc"), r.get("train_loss")) for r in rows]
    assert pairs == [(0, 9.0, None, None), (1, None, None, 0.5), (1, 1.0, None, None),
                     (1, None, 0.7, None), (2, None, None, None), (None, None, None, 0.4),
                     (5, 0.5, None, None)]


def test_define_metric_refuses_a_glob_that_is_not_a_suffix(root):
    run = logger.init(project="p")
    with pytest.raises(ValueError, match=r"a glob may only end in '\*'"):
        run.define_metric("val/*/loss", summary="min")


def test_disabled_mode_keeps_name_tags_config_and_checks_config_changes(root):
    run = logger.init(mode="disabled", project="p", name="dry-run", tags=["a", " b "],
                      notes="n", group="g", job_type="train", config={"lr": 0.1})
    assert (run.name, run.tags, run.notes, run.group, run.job_type) == (
        "dry-run", ("a", "b"), "n", "g", "train")
    assert run.config.lr == 0.1 and logger.config.lr == 0.1
    with pytest.raises(ConfigError, match="allow_val_change"):
        run.config.update({"lr": 0.2})
    run.config.update({"lr": 0.2}, allow_val_change=True)
    assert run.config.lr == 0.2
    run.finish()
    assert logger.run is None and not root.exists()


def test_one_tag_rule_for_init_run_attributes_and_editors(root):
    from logger.values import check_tags

    assert check_tags([" a ", "a", "", "b\t"]) == ("a", "b")
    with pytest.raises(ValueError, match="NUL"):
        check_tags(["x\x00y"])
    run = logger.init(project="p", tags=[" spaced ", "x"])
    assert run.tags == ("spaced", "x")
    run.tags = ["  y", "y "]
    assert run.tags == ("y",)
    with pytest.raises(ValueError, match="NUL"):
        run.tags = ["bad\x00"]
    with pytest.raises(ValueError, match="NUL"):
        logger.init(project="q", tags=["bad\x00"], reinit=True)
    run.finish()
    with pytest.raises(ValueError, match="NUL"):
        edit_tags(run.run_dir, run.id, add=["evil\x00"])
    edit_tags(run.run_dir, run.id, add=["  z  "])
    assert _api_run(root, run).tags == ["y", "z"]
