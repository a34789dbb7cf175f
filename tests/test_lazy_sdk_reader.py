"""Reading never loads the writing side: `import logger.reader` (what every `runwatch` command
does first) runs logger/__init__, which used to import the whole SDK (run, sdk, writer,
config, hooks) eagerly, ~55 ms of every headless command's start and of the app's.
Each check is a real, fresh interpreter: sys.modules of this test process says nothing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import REPO, run_script, script_env

SDK = ("logger.run", "logger.sdk", "logger.writer", "logger.config", "logger.hooks",
       "logger.disabled", "logger.run_extras")

PROBE = """
import json, sys
{code}
print(json.dumps(sorted(m for m in sys.modules if m in {sdk!r})))
"""


def sdk_loaded_after(code: str) -> list[str]:
    """The SDK modules a fresh interpreter holds after running `code`."""
    proc = subprocess.run([sys.executable, "-c", PROBE.format(code=code, sdk=SDK)], cwd=REPO,
                          env=script_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    loaded: list[str] = json.loads(proc.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize("code", [
    "import logger.reader",
    "import logger.index, logger.rundata, logger.textsafe, logger.query",
    "import logger; logger.run; logger.__version__; logger.termlog; logger.util; logger.errors",
    "import tui.cli.main, tui.cli.common, tui.cli.runs, tui.cli.tail",
])
def test_reading_modules_leave_the_sdk_unloaded(code: str) -> None:
    assert sdk_loaded_after(code) == []


def test_the_public_api_loads_no_run_machinery() -> None:
    """`logger.Api()` edits runs (tags, notes) through the writer, but never needs a Run."""
    loaded = sdk_loaded_after("import logger; logger.Api")
    assert not {"logger.run", "logger.sdk", "logger.hooks", "logger.config"} & set(loaded), loaded


def test_a_headless_command_that_reads_a_real_run_never_loads_the_sdk(tmp_path) -> None:
    root = tmp_path / "runs"
    run_script(tmp_path, f"""
        import logger
        run = logger.init(project="p", dir={str(root)!r}, config={{"lr": 0.1}})
        run.log({{"loss": 0.5}})
        run.finish()
    """)
    code = ("from tui.cli import main\n"
            f"for argv in (['ls', {str(root)!r}], ['tail', {str(root)!r}, '--no-follow'],"
            f" ['show', 'p/' + __import__('os').listdir({str(root / 'p')!r})[0], '--root', {str(root)!r}]):\n"
            "    assert main(argv) == 0, argv")
    assert sdk_loaded_after(code) == []


def test_the_sdk_loads_when_a_script_first_names_it() -> None:
    """The laziness is PEP 562's: `import logger` alone holds none of it; naming init (or
    Run, RunwatchWarning, ...) imports what that name needs."""
    assert sdk_loaded_after("import logger") == []
    assert set(sdk_loaded_after("import logger; logger.init")) >= {"logger.sdk", "logger.run",
                                                                   "logger.writer"}
    assert "logger.writer" in sdk_loaded_after("import logger; logger.RunwatchWarning")
    assert "logger.run" in sdk_loaded_after("import logger; logger.Run")
