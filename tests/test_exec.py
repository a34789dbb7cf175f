"""`runwatch exec -- CMD`: `import wandb` is runwatch, opt-in, for CMD and what it starts."""

from __future__ import annotations

import subprocess
import sys

import logger
from tests.exec_support import child_env, ok, run_script

PROBE = """
    import importlib.metadata, importlib.util, json, sys
    import wandb
    from wandb.sdk.lib import RunDisabled
    from wandb.sdk.lib.config_util import ConfigError
    from wandb.wandb_run import Run
    from wandb.errors import CommError, Error, UsageError
    import wandb.integration.keras, wandb.util, wandb.apis.public
    print(json.dumps({
        "file": wandb.__file__, "version": wandb.__version__,
        "dist": importlib.metadata.version("wandb"),
        "spec": importlib.util.find_spec("wandb") is not None, "has_run": hasattr(wandb, "run"),
        "errors": issubclass(CommError, Error) and issubclass(UsageError, Error),
        "config_error": issubclass(ConfigError, Exception), "disabled": RunDisabled.__name__,
    }))
    run = wandb.init(project="probe", config={"lr": 0.1})
    assert isinstance(run, Run) and wandb.run is run
    wandb.log({"loss": 0.5})
    wandb.finish()
"""


def test_exec_gives_import_wandb_what_the_integrations_check(tmp_path, root):
    import json

    out = json.loads(ok(run_script(tmp_path, PROBE, RUNWATCH_DIR=str(root))).splitlines()[-1])
    assert "_wandb_shim" in out["file"]
    assert out["version"] == out["dist"] == "0.31.0"  # Lightning: RequirementCache("wandb>=0.12.10")
    assert out["spec"] and out["has_run"]  # HF: find_spec("wandb") and hasattr(wandb, "run")
    assert out["errors"] and out["config_error"] and out["disabled"] == "DisabledRun"
    (run,) = logger.Api(root).runs("probe")
    assert run.state == "finished" and run.config == {"lr": 0.1} and run.summary["loss"] == 0.5


def test_a_real_wandb_is_shadowed_only_under_exec(tmp_path):
    fake = tmp_path / "site" / "wandb"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("REAL = True\n")
    env = {"PYTHONPATH": f"{tmp_path / 'site'}"}
    probe = "import wandb; print('real' if getattr(wandb, 'REAL', False) else 'runwatch')\n"
    plain = run_script(tmp_path, probe, exec_=False, **env)
    under = run_script(tmp_path, probe, **env)
    assert ok(plain).strip() == "real"
    assert ok(under).strip() == "runwatch"


def test_processes_cmd_starts_inherit_it_and_its_exit_code_is_kept(tmp_path, root):
    script = """
        import subprocess, sys
        code = "import wandb; r = wandb.init(project='kids', name='child'); r.log({'x': 1}); r.finish()"
        subprocess.run([sys.executable, "-c", code], check=True)
        sys.exit(3)
    """
    proc = run_script(tmp_path, script, RUNWATCH_DIR=str(root))
    assert proc.returncode == 3, proc.stderr
    (run,) = logger.Api(root).runs("kids")
    assert run.name == "child" and run.state == "finished"


def test_a_failed_submodule_import_leaves_runwatch_intact(tmp_path, root):
    script = """
        import wandb, logger, types
        for name in ("wandb.sdk.internal.nothing", "wandb.run", "wandb.sdk.nonexistent"):
            try:
                __import__(name)
            except ImportError:
                pass
        assert not isinstance(logger.run, types.ModuleType), logger.run
        assert logger.run is None and wandb.run is None
        run = wandb.init(project="clean", config={"lr": 1})
        run.finish()
    """
    ok(run_script(tmp_path, script, RUNWATCH_DIR=str(root)))
    (run,) = logger.Api(root).runs("clean")
    assert run.config == {"lr": 1}


def test_exec_without_a_command_or_with_a_missing_one_says_so(tmp_path):
    def rw(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tui", *args], cwd=tmp_path, env=child_env(),
                              capture_output=True, text=True, timeout=30)

    empty = rw("exec")
    assert empty.returncode == 2 and "needs a command" in empty.stderr
    missing = rw("exec", "--", "no-such-command-xyz")
    assert missing.returncode == 127 and "no-such-command-xyz" in missing.stderr
    helped = rw("exec", "--help")
    assert helped.returncode == 0 and "import wandb" in helped.stdout


def test_exec_module_does_not_import_textual():
    code = "import sys, tui.cli.exec, tui.cli; tui.cli.build_parser(); print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], env=child_env(), capture_output=True,
                         text=True, timeout=30)
    assert ok(out).strip() == "False"
