"""With the SDK loaded lazily (logger/__init__.py, PEP 562), a W&B script's every use of the
module works as before: one real script under `import logger as wandb`, writing a real run
that is read back. It checks, as it goes, that nothing loaded before the script named it."""

from __future__ import annotations

import json

from logger import Api

from .conftest import run_script

SCRIPT = """
import json, pydoc, sys, types, warnings
import logger as wandb

out = {}
def loaded():
    return sorted(m for m in ("logger.run", "logger.sdk", "logger.writer", "logger.config")
                  if m in sys.modules)

out["loaded_at_import"] = loaded()
out["run_before"] = repr(wandb.run)
out["dir"] = [n for n in ("init", "log", "Run", "Settings", "Api", "Image", "config") if n in dir(wandb)]
out["help_names"] = [n for n in ("init", "finish", "Run", "Api") if n in pydoc.render_doc(wandb)]
errors = []
for use in (lambda: wandb.log({"a": 1}), lambda: wandb.config.lr, lambda: wandb.summary["x"]):
    try:
        use()
    except wandb.RunwatchError as exc:
        errors.append(str(exc))
out["errors"] = errors
wandb.config = {"epochs": 3}  # before init: seeds the run's config (W&B's docs do this)
warnings.filterwarnings("error", category=wandb.RunwatchWarning)
import logger.run, logger.config  # the submodules named like the SDK's attributes
out["names_kept"] = [wandb.run is None, not isinstance(wandb.config, types.ModuleType)]

run = wandb.init(project="p", config={"lr": 0.1}, settings=wandb.Settings(silent=True))
out["is_run"] = [isinstance(run, wandb.Run), wandb.run is run, wandb.util.generate_id(5).isalnum()]
wandb.config = {"bs": 8}
wandb.config.update({"seed": 1})
out["config"] = [wandb.config.epochs, wandb.config.lr, wandb.config.bs, wandb.config["seed"]]
for step in range(3):
    wandb.log({"loss": 1.0 / (step + 1)})
wandb.summary["best"] = 0.25
wandb.termlog("hello from termlog")
try:
    raise wandb.errors.CommError("no server")
except wandb.Error as exc:
    out["comm"] = str(exc)
ns = {}
exec("from logger import *", ns)
out["star"] = [ns["init"] is wandb.init, ns["Run"] is wandb.Run, "Api" in ns, "Image" in ns]
out["id"] = run.id
wandb.finish()
out["run_after"] = repr(wandb.run)
print(json.dumps(out))
"""


def test_a_wandb_script_uses_the_lazily_loaded_module_as_before(tmp_path, root):
    proc = run_script(tmp_path, SCRIPT)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["loaded_at_import"] == [], "import logger loaded the SDK before the script named it"
    assert out["run_before"] == "None" and out["run_after"] == "None"
    assert out["dir"] == ["init", "log", "Run", "Settings", "Api", "Image", "config"]
    assert out["help_names"] == ["init", "finish", "Run", "Api"]
    assert out["errors"] == [
        "logger.log() needs a run: call logger.init(...) first",
        "logger.config is not available yet: call logger.init(...) first",
        "logger.summary is not available yet: call logger.init(...) first",
    ]
    assert out["names_kept"] == [True, True]
    assert out["is_run"] == [True, True, True]
    assert out["config"] == [3, 0.1, 8, 1]
    assert out["comm"] == "no server" and out["star"] == [True, True, True, True]
    assert "wandb: hello from termlog" in proc.stderr
    (data,) = Api(root).runs("p")
    assert data.id == out["id"] and data.state == "finished"
    assert data.config == {"epochs": 3, "lr": 0.1, "bs": 8, "seed": 1}
    assert data.summary["best"] == 0.25 and data.summary["loss"] == 1.0 / 3
    assert [row["loss"] for row in data.scan_history()] == [1.0, 0.5, 1.0 / 3]
