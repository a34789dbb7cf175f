"""W&B's environment variables at init, and where runs land (the run root's precedence)."""

from __future__ import annotations

import pytest

import logger
from logger.wandb_env import run_root_argument
from tests.exec_support import ok, run_script


@pytest.fixture
def wandb_env(monkeypatch, root):
    for var in ("WANDB_PROJECT", "WANDB_NAME", "WANDB_NOTES", "WANDB_TAGS", "WANDB_RUN_GROUP",
                "WANDB_JOB_TYPE", "WANDB_RUN_ID", "WANDB_RESUME", "WANDB_DIR", "WANDB_SILENT",
                "WANDB_CONSOLE", "WANDB_DISABLED", "RUNWATCH_EXEC"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_the_environment_fills_what_init_was_not_given(wandb_env, root):
    for var, value in {"WANDB_PROJECT": "envproj", "WANDB_NAME": "from-env", "WANDB_NOTES": "env notes",
                       "WANDB_TAGS": "a, b,,c", "WANDB_RUN_GROUP": "g1", "WANDB_JOB_TYPE": "train",
                       "WANDB_RUN_ID": "envrun01"}.items():
        wandb_env.setenv(var, value)
    logger.init().finish()
    run = logger.Api(root).run("envproj/envrun01")
    assert (run.name, run.notes, run.tags, run.group, run.job_type) == ("from-env", "env notes", ["a", "b", "c"], "g1", "train")
    logger.init(project="argproj", name="from-arg", tags=["x"], id="argrun01").finish()
    run = logger.Api(root).run("argproj/argrun01")
    assert (run.name, run.tags, run.group) == ("from-arg", ["x"], "g1")  # arguments win, env fills


def test_wandb_run_id_and_resume_continue_one_run_across_processes(tmp_path, root):
    script = """
        import sys
        import logger as wandb
        run = wandb.init(project="resume", config={"attempt": int(sys.argv[1])}, allow_val_change=True)
        for _ in range(3):
            wandb.log({"loss": 1.0})
        wandb.finish()
    """
    env = {"RUNWATCH_DIR": str(root), "WANDB_RUN_ID": "fixedid1", "WANDB_RESUME": "allow"}
    ok(run_script(tmp_path, script, "1", exec_=False, **env))
    ok(run_script(tmp_path, script, "2", exec_=False, **env))
    (run,) = logger.Api(root).runs("resume")
    assert run.id == "fixedid1" and run.config["attempt"] == 2
    assert [r["_step"] for r in run.scan_history()] == [0, 1, 2, 3, 4, 5]


def test_wandb_resume_must_without_a_run_says_so(wandb_env, root):
    wandb_env.setenv("WANDB_RUN_ID", "nosuchrun")
    wandb_env.setenv("WANDB_RESUME", "must")
    with pytest.raises(ValueError, match="resume='must'"):
        logger.init(project="p")
    wandb_env.setenv("WANDB_RESUME", "sometimes")
    with pytest.raises(ValueError, match=r"\$WANDB_RESUME='sometimes'"):
        logger.init(project="p")


def test_wandb_mode_values_including_lightnings_dryrun(wandb_env, root):
    wandb_env.setenv("WANDB_MODE", "dryrun")
    run = logger.init(project="modes")
    run.finish()
    assert logger.Api(root).run(f"modes/{run.id}").state == "finished"
    wandb_env.setenv("WANDB_MODE", "disabled")
    assert isinstance(logger.init(project="modes"), logger.DisabledRun)
    logger.finish()
    wandb_env.delenv("WANDB_MODE")
    wandb_env.setenv("WANDB_DISABLED", "true")
    assert isinstance(logger.init(project="modes"), logger.DisabledRun)
    logger.finish()
    wandb_env.delenv("WANDB_DISABLED")
    wandb_env.setenv("WANDB_MODE", "cloudy")
    with pytest.raises(ValueError, match=r"\$WANDB_MODE='cloudy'"):
        logger.init(project="modes")


def test_a_framework_dir_of_dot_lands_in_the_default_root(wandb_env, tmp_path):
    wandb_env.chdir(tmp_path)
    wandb_env.delenv("RUNWATCH_DIR")
    run = logger.init(project="p", dir=".")
    run.finish()
    assert (tmp_path / "runs" / "p" / run.id).is_dir()
    wandb_env.setenv("WANDB_DIR", str(tmp_path / "wandb_dir"))
    run = logger.init(project="p", dir=".")
    run.finish()
    assert (tmp_path / "wandb_dir" / "p" / run.id).is_dir()


def test_run_root_precedence():
    env = {"RUNWATCH_DIR": "/rw", "WANDB_DIR": "/wb"}
    assert str(run_root_argument("/given", env)) == "/given"  # a script's own dir= wins...
    assert str(run_root_argument("/given", {**env, "RUNWATCH_EXEC": "1"})) == "/rw"  # ...not a framework's
    assert str(run_root_argument(".", env)) == "/rw"
    assert str(run_root_argument(None, {"WANDB_DIR": "/wb"})) == "/wb"
    assert run_root_argument(".", {"WANDB_DIR": "."}) is None  # ./runs
    assert run_root_argument(None, {}) is None


def test_runwatch_dir_wins_over_a_framework_dir_under_exec(tmp_path, root):
    script = """
        import wandb
        wandb.init(project="p", dir="elsewhere").finish()
    """
    ok(run_script(tmp_path, script, RUNWATCH_DIR=str(root)))
    assert len(logger.Api(root).runs("p")) == 1 and not (tmp_path / "elsewhere").exists()


def test_wandb_silent_quiets_termlog_and_wandb_console_is_checked(wandb_env, root, capsys):
    logger.termlog("hello")
    logger.termwarn("careful")
    assert capsys.readouterr().err == "wandb: hello\nwandb: WARNING careful\n"
    wandb_env.setenv("WANDB_SILENT", "true")
    logger.termlog("hello")
    logger.termerror("bad")
    assert capsys.readouterr().err == ""
    wandb_env.setenv("WANDB_CONSOLE", "off")
    logger.init(project="p").finish()
    wandb_env.setenv("WANDB_CONSOLE", "loud")
    with pytest.raises(ValueError, match=r"\$WANDB_CONSOLE='loud'"):
        logger.init(project="p")


def test_disabled_mode_runs_take_what_integrations_call(tmp_path, root):
    script = """
        import wandb
        from wandb.sdk.lib import RunDisabled
        run = wandb.init(project="off")
        assert isinstance(run, RunDisabled)
        run._label(code="transformers_trainer")  # HF Trainer
        run.watch(object(), log="all", log_freq=10)  # Lightning's WandbLogger.watch
        run.define_metric("*", step_metric="trainer/global_step", step_sync=True)
        assert run.use_artifact("data:latest") == "data:latest" and run.url is None
        run.log({"loss": 1.0})
        wandb.finish()
    """
    ok(run_script(tmp_path, script, RUNWATCH_DIR=str(root), WANDB_MODE="disabled"))
    assert not root.exists()
