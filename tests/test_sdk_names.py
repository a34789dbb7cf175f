"""The SDK's module-level names (`logger.summary`, `logger.config`, `logger.run`, ...) stay the
SDK's whatever else is imported: Python sets `logger.<sub>` to a submodule the first time it is
imported, so a submodule named like a W&B attribute would replace it (`logger.summary` became a
module once `logger.reader` was imported, and `summary["x"]` before init said nothing useful)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import importlib, pkgutil, types
import logger
before = {name: getattr(logger, name) for name in dir(logger)  # every public name, not a module
          if not name.startswith("_") and not isinstance(getattr(logger, name), types.ModuleType)}
for info in pkgutil.walk_packages(logger.__path__, "logger."):
    if "_wandb_shim" not in info.name:
        importlib.import_module(info.name)
changed = sorted(name for name, value in before.items() if getattr(logger, name) is not value)
shadowed = sorted(info.name for info in pkgutil.iter_modules(logger.__path__)
                  if info.name in before)
print("changed", changed)
print("shadowed", shadowed)
"""


def test_no_submodule_replaces_an_sdk_name():
    out = subprocess.run([sys.executable, "-c", CHILD], cwd=REPO, capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert "changed []" in out, out
    # config and run are imported by `import logger` itself (so the SDK's names are set after
    # them); any other submodule named like an SDK attribute would replace it when first imported.
    assert set(eval(out.split("shadowed ", 1)[1])) <= {"config", "run"}, out  # noqa: S307
