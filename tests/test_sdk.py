"""The script-facing API behaves as W&B's client does, and is read back unchanged."""

from __future__ import annotations

import argparse
import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import logger
from logger import Api, ConfigError, RunFinishedError, RunwatchError
from logger.reader import RootReader

from .conftest import run_script, script_env


def read_run(root: Path, run: logger.Run):
    reader = RootReader(root)
    reader.scan()
    return reader.runs[f"{run.project}/{run.id}"]


def test_before_init_every_module_call_says_to_call_init(root):
    for call in (lambda: logger.log({"a": 1}), lambda: logger.config.lr,
                 lambda: logger.summary["x"], lambda: logger.save("x"),
                 lambda: logger.define_metric("x")):
        with pytest.raises(RunwatchError, match=r"init\(") as info:
            call()
        assert "init" in str(info.value)
    assert logger.run is None


def test_plain_log_calls_are_consecutive_steps(root):
    run = logger.init(project="p", config={"lr": 0.1})
    for i in range(5):
        logger.log({"loss": 1.0 / (i + 1)})
    assert run.step == 5
    run.finish()
    data = read_run(root, run)
    assert data.state == "finished"
    steps, values = data.history.columns["loss"].series()
    assert steps == [0, 1, 2, 3, 4]
    assert values == [1.0, 0.5, 1 / 3, 0.25, 0.2]


def test_step_and_commit_follow_wandb(root):
    run = logger.init(project="p")
    run.log({"a": 1}, commit=False)        # step 0 stays open
    run.log({"b": 2})                      # ... and is committed with both keys
    run.log({"c": 3}, step=5)              # step=N alone leaves step 5 open
    run.log({"d": 4}, step=5)              # same step: merged
    run.log({"e": 5})                      # commits step 5, moves to 6
    run.log({"f": 6}, step=7, commit=True)  # explicit commit
    assert run.step == 8
    run.finish()
    rows = list(Api(root).run(run.path).scan_history())
    assert [(r["_step"], sorted(k for k in r if not k.startswith("_"))) for r in rows] == [
        (0, ["a", "b"]), (5, ["c", "d", "e"]), (7, ["f"]),
    ]


def test_a_step_that_goes_backwards_is_kept_and_reported_once(root):
    run = logger.init(project="p")
    for step in range(10):
        run.log({"loss": float(step)}, step=step, commit=True)
    with pytest.warns(logger.RunwatchWarning, match="step 3 is before the current step 10"):
        run.log({"loss": 100.0}, step=3, commit=True)
    run.log({"loss": 101.0}, step=4, commit=True)  # no second warning: it warns once
    run.finish()
    data = read_run(root, run)
    assert data.history.rewritten == 2
    steps, values = data.history.columns["loss"].series()
    assert steps == list(range(10))
    assert values[3] == 100.0 and values[4] == 101.0 and values[5] == 5.0


def test_nested_dicts_are_flat_history_and_nested_summary(root):
    run = logger.init(project="p")
    run.log({"train": {"loss": 0.5, "acc": 0.7}, "lr": 1e-3})
    run.log({"train": {"loss": 0.4}})
    run.log({"odd.key": 1})
    run.finish()
    data = read_run(root, run)
    assert set(data.history.columns) == {"train.loss", "train.acc", "lr", "odd.key"}
    summary = Api(root).run(run.path).summary
    assert summary["train"] == {"loss": 0.4, "acc": 0.7}
    assert summary["odd.key"] == 1  # a dotted key logged flat stays flat, as in W&B
    assert summary["_step"] == 2


def test_values_of_every_kind_survive(root):
    np = pytest.importorskip("numpy")
    run = logger.init(project="p")
    run.log({
        "f": 1.5, "i": 3, "big": 2**70, "b": True, "s": "text", "none": None,
        "nan": math.nan, "inf": math.inf, "ninf": -math.inf,
        "np32": np.float32(0.25), "np64": np.float64(0.5), "npint": np.int64(7),
        "arr": np.arange(3), "lst": [1, 2],
    })
    run.finish()
    summary = Api(root).run(run.path).summary
    assert summary["f"] == 1.5 and summary["i"] == 3 and summary["b"] is True
    assert summary["s"] == "text" and summary["none"] is None
    assert math.isnan(summary["nan"]) and summary["inf"] == math.inf and summary["ninf"] == -math.inf
    assert summary["np32"] == 0.25 and summary["np64"] == 0.5 and summary["npint"] == 7
    assert summary["arr"] == [0, 1, 2] and summary["lst"] == [1, 2]
    assert summary["big"] == float(2**70)


def test_an_unencodable_value_is_kept_as_repr_with_one_warning(root):
    class Thing:
        def __repr__(self) -> str:
            return "<thing>"

    run = logger.init(project="p")
    with pytest.warns(logger.RunwatchWarning, match="'obj'.*repr") as record:
        run.log({"obj": Thing(), "x": 1})
        run.log({"obj": Thing(), "x": 2})
    assert len(record) == 1
    run.finish()
    assert Api(root).run(run.path).summary["obj"] == "<thing>"


def test_log_misuse_raises_where_it_happens(root):
    run = logger.init(project="p")
    with pytest.raises(TypeError, match="log\\(\\) takes a dict"):
        run.log([1, 2])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="step must be an int"):
        run.log({"a": 1}, step="x")  # type: ignore[arg-type]
    run.finish()
    with pytest.raises(RunFinishedError, match="has finished; call logger.init"):
        run.log({"a": 1})
    with pytest.raises(RunwatchError, match="init"):
        logger.log({"a": 1})


def test_config_access_update_and_val_change(root):
    run = logger.init(project="p", config={"lr": 0.1, "model": {"depth": 4}})
    cfg = logger.config
    assert cfg.lr == 0.1 and cfg["model"]["depth"] == 4 and "lr" in cfg
    cfg.update({"batch": 32})
    cfg.epochs = 3
    cfg.update(argparse.Namespace(seed=7, lr=0.1))  # same value: fine
    cfg.setdefaults({"lr": 9.0, "warmup": 100})
    with pytest.raises(ConfigError, match="'lr' already set to 0.1; pass allow_val_change=True"):
        cfg.update({"lr": 0.2})
    cfg.update({"lr": 0.2}, allow_val_change=True)
    assert sorted(cfg.keys()) == ["batch", "epochs", "lr", "model", "seed", "warmup"]
    assert cfg.get("missing", "d") == "d"
    with pytest.raises(AttributeError, match="no key 'nope'"):
        _ = cfg.nope
    run.finish()
    assert Api(root).run(run.path).config == {
        "lr": 0.2, "model": {"depth": 4}, "batch": 32, "epochs": 3, "seed": 7, "warmup": 100,
    }


def test_assigning_a_dict_to_module_config_is_recorded(root):
    run = logger.init(project="p")
    logger.config = {"epochs": 2, "learning_rate": 0.001}
    assert logger.config.epochs == 2
    assert isinstance(logger.config, logger.Config)
    run.finish()
    assert Api(root).run(run.path).config == {"epochs": 2, "learning_rate": 0.001}


def test_summary_hand_set_value_stays_until_logged_again(root):
    run = logger.init(project="p")
    run.log({"loss": 1.0})
    run.summary["loss"] = 0.1
    run.summary["best"] = 0.05
    assert run.summary["loss"] == 0.1
    api_summary = _summary_now(root, run)
    assert api_summary["loss"] == 0.1 and api_summary["best"] == 0.05
    time.sleep(0.002)
    run.log({"loss": 0.7})
    assert run.summary["loss"] == 0.7
    run.finish()
    summary = Api(root).run(run.path).summary
    assert summary["loss"] == 0.7 and summary["best"] == 0.05


def _summary_now(root: Path, run: logger.Run) -> dict:
    run._writer.flush()
    return read_run(root, run).summary


def test_define_metric_summaries_and_globs(root):
    run = logger.init(project="p")
    run.define_metric("loss", summary="min")
    run.define_metric("val/*", summary="max")
    run.define_metric("noise", summary="none")
    run.define_metric("acc", summary="mean,last")
    for loss, val, acc in [(3.0, 0.1, 0.5), (1.0, 0.9, 0.7), (2.0, 0.4, 0.9)]:
        run.log({"loss": loss, "val/acc": val, "noise": 1, "acc": acc})
    run.finish()
    summary = Api(root).run(run.path).summary
    assert summary["loss"] == {"min": 1.0}
    assert summary["val/acc"] == {"max": 0.9}
    assert "noise" not in summary
    assert summary["acc"] == {"mean": pytest.approx(0.7), "last": 0.9}
    with pytest.raises(ValueError, match="use min, max, mean"):
        logger.init(project="p").define_metric("x", summary="median")


def test_tags_notes_name_can_change_during_the_run(root):
    run = logger.init(project="p", name="first", tags=["a"], notes="n1", group="g", job_type="train")
    assert (run.group, run.job_type, run.tags) == ("g", "train", ("a",))
    run.tags = run.tags + ("b",)
    run.notes = "n2"
    run.name = "second"
    with pytest.raises(TypeError, match="not one string"):
        run.tags = "oops"  # type: ignore[assignment]
    run.finish()
    api_run = Api(root).run(run.path)
    assert (api_run.name, api_run.notes, api_run.tags) == ("second", "n2", ["a", "b"])
    assert (api_run.group, api_run.job_type) == ("g", "train")


def test_second_init_returns_the_active_run_unless_reinit(root):
    first = logger.init(project="p")
    assert logger.init(project="p") is first
    second = logger.init(project="p", reinit=True)
    assert second is not first and first.finished and logger.run is second
    second.finish()
    assert logger.run is None


def test_context_manager_marks_an_exception_failed(root):
    with pytest.raises(ZeroDivisionError):
        with logger.init(project="p") as run:
            run.log({"a": 1})
            1 / 0  # noqa: B018
    data = read_run(root, run)
    assert data.state == "failed" and data.exit_code == 1
    assert "ZeroDivisionError" in data.error


def test_disabled_mode_records_nothing_and_still_works(root, monkeypatch):
    monkeypatch.setenv("RUNWATCH_MODE", "disabled")
    run = logger.init(project="p", config={"epochs": 2})
    assert logger.config.epochs == 2
    logger.log({"loss": 1.0})
    run.summary["x"] = 1
    run.finish()
    assert not root.exists()


def test_resume_continues_the_run_in_a_new_segment(root):
    run = logger.init(project="p", id="fixed1", config={"lr": 0.1}, tags=["a"])
    run.log({"loss": 1.0})
    run.log({"loss": 0.9})
    run.finish()
    with pytest.raises(ValueError, match="already exists.*resume='allow'"):
        logger.init(project="p", id="fixed1")
    with pytest.raises(ValueError, match="resume='must' but run p/nothere does not exist"):
        logger.init(project="p", id="nothere", resume="must")
    again = logger.init(project="p", id="fixed1", resume="allow")
    assert again.step == 2 and again.config.lr == 0.1 and again.tags == ("a",)
    again.log({"loss": 0.8})
    again.finish()
    data = read_run(root, again)
    assert len(data.segments) == 2 and data.state == "finished"
    assert data.history.columns["loss"].series() == ([0, 1, 2], [1.0, 0.9, 0.8])


def test_invalid_identifiers_are_refused_with_the_reason(root):
    with pytest.raises(ValueError, match="invalid project '../x'"):
        logger.init(project="../x")
    with pytest.raises(ValueError, match="invalid run id 'a/b'"):
        logger.init(project="p", id="a/b")
    with pytest.raises(TypeError, match="project must be a str"):
        logger.init(project=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="mode 'fast'"):
        logger.init(project="p", mode="fast")


def test_root_resolution_argument_then_env_then_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RUNWATCH_DIR", raising=False)
    run = logger.init(project="p")
    run.finish()
    assert (tmp_path / "runs" / "p" / run.id).is_dir()
    monkeypatch.setenv("RUNWATCH_DIR", str(tmp_path / "env"))
    run = logger.init(project="p")
    run.finish()
    assert (tmp_path / "env" / "p" / run.id).is_dir()
    run = logger.init(project="p", dir=tmp_path / "arg")
    run.finish()
    assert (tmp_path / "arg" / "p" / run.id).is_dir()


def test_a_forgotten_finish_is_done_at_exit(tmp_path, root):
    run_script(tmp_path, """
        import logger
        logger.init(project="p", name="forgot")
        logger.log({"a": 1})
    """)
    (data,) = Api(root).runs("p")
    assert data.state == "finished" and data.summary["a"] == 1


def test_an_uncaught_exception_fails_the_run_with_its_traceback(tmp_path, root):
    proc = run_script(tmp_path, """
        import logger
        logger.init(project="p")
        logger.log({"a": 1})
        raise RuntimeError("out of memory on purpose")
    """, check=False)
    assert proc.returncode == 1
    (data,) = Api(root).runs("p")
    assert data.state == "failed" and data.exit_code == 1
    assert "RuntimeError: out of memory on purpose" in data.error


def test_sys_exit_code_decides_the_state(tmp_path, root):
    run_script(tmp_path, """
        import sys, logger
        logger.init(project="p")
        sys.exit(3)
    """, check=False)
    (data,) = Api(root).runs("p")
    assert data.state == "failed" and data.exit_code == 3


def test_sigterm_records_killed_then_exits_as_before(tmp_path, root):
    script = tmp_path / "train.py"
    script.write_text(
        "import logger, time\n"
        "logger.init(project='p')\n"
        "logger.log({'a': 1})\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path, env=script_env(),
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == -signal.SIGTERM
    proc.stdout.close()
    (data,) = Api(root).runs("p")
    assert data.state == "killed" and data.exit_code == 128 + signal.SIGTERM
    assert data.summary["a"] == 1


def test_ctrl_c_records_killed(tmp_path, root):
    script = tmp_path / "train.py"
    script.write_text(
        "import logger, time\n"
        "logger.init(project='p')\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path, env=script_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=10)
    assert "KeyboardInterrupt" in err
    (data,) = Api(root).runs("p")
    assert data.state == "killed" and data.exit_code == 130


def test_a_forked_child_never_writes_the_parents_segment(tmp_path, root):
    run_script(tmp_path, """
        import os, logger
        run = logger.init(project="p")
        run.log({"parent": 1})
        pid = os.fork()
        if pid == 0:
            run.log({"child": 1})
            os._exit(0)
        os.waitpid(pid, 0)
        run.log({"parent": 2})
    """)
    (data,) = Api(root).runs("p")
    assert data.state == "finished"
    assert "child" not in data.summary and data.summary["parent"] == 2


def test_wandb_calls_with_no_local_meaning_are_harmless(root):
    assert logger.login(key="x") is True
    run = logger.init(project="p", settings=logger.Settings(silent=True), entity="me",
                      save_code=True)
    logger.watch(object(), log="all", log_freq=10)
    logger.unwatch()
    assert run.url == run.run_dir.resolve().as_uri() and run.entity and run.resumed is False
    run.finish()
