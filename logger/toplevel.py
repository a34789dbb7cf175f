"""The package's public surface (`logger.run`, `logger.finish`, `logger.Api`), reached from
the modules below it without importing sdk, run or api: those import this layer, not back.

`logger.run` is the run `sdk.init` publishes on the package; reading it here keeps compat,
artifacts and media free of import cycles with sdk/run (a Python package is always loaded
before its submodules, so `import logger` inside a function never loads anything new).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def current_run(what: str, allow_disabled: bool = False) -> Any:
    """The current run, or RunwatchError naming the call that needs one."""
    import logger

    run = logger.run
    if run is None or (not allow_disabled and getattr(run, "disabled", False)):
        raise logger.RunwatchError(f"{what} needs a run: call logger.init(...) first")
    return run


def finish(exit_code: int | None = None, quiet: bool | None = None) -> None:
    """`logger.finish`, for W&B's older names of it (`join`, `teardown`)."""
    import logger

    logger.finish(exit_code, quiet)


def api_runs(root: Path, pairs: list[tuple[str, str]]) -> list[Any]:
    """Api runs (W&B's Public API shape) for (project, run id) pairs that can still be read."""
    import logger

    api = logger.Api(root)
    out = []
    for project, run_id in pairs:
        try:
            out.append(api.run(f"{project}/{run_id}"))
        except ValueError:
            continue
    return out
