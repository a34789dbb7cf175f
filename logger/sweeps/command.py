"""What a trial is given: its environment (read by `logger.init`) and its command line.

The command follows W&B's agent: the default is `${env} ${interpreter} ${program} ${args}`;
`${args}` is `--key=value` per parameter (value as Python's str()), `${args_no_hyphens}` is
`key=value`, `${args_json}` one JSON word, `${args_json_file}` the path of that JSON in a file,
`${envvar:NAME}` the environment variable NAME.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any

from .config import nest
from .store import Claim, Sweep

DEFAULT_COMMAND = ["${env}", "${interpreter}", "${program}", "${args}"]
ENV_KEYS = ("RUNWATCH_DIR", "RUNWATCH_SWEEP_ID", "RUNWATCH_SWEEP_PROJECT", "RUNWATCH_RUN_ID",
            "RUNWATCH_SWEEP_PARAMS")
_ENVVAR = re.compile(r"\$\{envvar:([A-Za-z0-9_]*)\}")


def trial_env(sweep: Sweep, claim: Claim) -> dict[str, str]:
    """The variables `logger.init()` reads in a trial: root, sweep, project, run id, parameters."""
    return {
        "RUNWATCH_DIR": os.path.abspath(sweep.root),  # the same root wherever the trial chdirs
        "RUNWATCH_SWEEP_ID": sweep.id,
        "RUNWATCH_SWEEP_PROJECT": sweep.project,
        "RUNWATCH_RUN_ID": str(claim.data.get("run_id")),
        "RUNWATCH_SWEEP_PARAMS": json.dumps(nest(claim.params)),
    }


def command_args(params: dict[str, Any]) -> dict[str, list[str]]:
    """The argument forms W&B's agent offers, for a trial's (top-level, nested) parameters."""
    values = nest(params)
    return {
        "args": [f"--{k}={v}" for k, v in values.items()],
        "args_no_hyphens": [f"{k}={v}" for k, v in values.items()],
        "args_no_boolean_flags": [f"--{k}" if v is True else f"--{k}={v}"
                                  for k, v in values.items() if v is not False],
        "args_json": [json.dumps(values)],
    }


def build_command(sweep: Sweep, claim: Claim) -> list[str]:
    """The trial's argv: the sweep's `command` with every macro expanded."""
    values = command_args(claim.params)
    values["env"] = ["/usr/bin/env"] if os.path.exists("/usr/bin/env") else []
    values["interpreter"] = [sys.executable or "python"]
    values["program"] = [str(sweep.config.get("program", ""))] if sweep.config.get("program") else []
    if any("${args_json_file}" in word for word in sweep.config.get("command") or []):
        path = sweep.dir / "args" / f"{claim.data.get('run_id')}.json"
        path.parent.mkdir(exist_ok=True)
        path.write_text(values["args_json"][0])
        values["args_json_file"] = [str(path)]
    argv: list[str] = []
    for word in sweep.config.get("command") or DEFAULT_COMMAND:
        word = _ENVVAR.sub(lambda m: os.environ.get(m.group(1), m.group(1)), word)
        if word.startswith("${") and word.endswith("}"):
            argv += values.get(word[2:-1], [])
        else:
            argv.append(word)
    return argv
