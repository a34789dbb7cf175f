"""The seed's scripts — the code blocks of W&B's "Create an experiment" guide — run unchanged
with `import logger as wandb`, and everything they logged reads back through `Api`.

Each script that starts with `import wandb` runs alone; the guide's step-by-step blocks run
in sequence as one script. `get_model`/`get_data` (left to the reader by the guide) come from
a small prelude whose model records the values it returned, so the history can be checked.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
import relkit

from logger.api import Api

SEED_DIRS = [relkit.REPO.parent / "shared" / "seed", Path(__file__).parent / "seed"]

PRELUDE = """\
import atexit as _atexit, json as _json
_returned = []


class Model:
    def __init__(self):
        self.t = 0

    def training_step(self):
        self.t += 1
        loss, accuracy = 1.0 / self.t, 1.0 - 1.0 / (self.t + 1)
        _returned.append([loss, accuracy])
        return loss, accuracy

    def to_onnx(self):
        with open("model.onnx", "wb") as f:
            f.write(b"onnx bytes")


def get_model():
    return Model()


def get_data():
    return range(3)




def _save_returned():
    with open("returned.json", "w") as f:
        _json.dump(_returned, f)


_atexit.register(_save_returned)
"""


def code_blocks(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def seed_scripts() -> dict[str, str]:
    """name -> code: each block that imports wandb, and the step-by-step blocks joined."""
    scripts: dict[str, str] = {}
    for directory in SEED_DIRS:
        for md in sorted(directory.glob("*.md")) if directory.is_dir() else []:
            blocks = code_blocks(md)
            starts = [i for i, b in enumerate(blocks) if re.search(r"^import wandb$", b, re.M)]
            for n, i in enumerate(starts):
                scripts.setdefault(f"{md.stem}-block{i}", blocks[i])
                end = starts[n + 1] if n + 1 < len(starts) else len(blocks)
                if end - i > 1:
                    scripts.setdefault(f"{md.stem}-blocks{i}-{end - 1}", "\n".join(blocks[i:end]))
    unique: dict[str, str] = {}
    for name, code in scripts.items():  # the shared seed and our copy hold the same blocks
        if code not in unique.values():
            unique[name] = code
    return unique


SCRIPTS = seed_scripts()


def as_logger_script(code: str) -> str:
    swapped = re.sub(r"^import wandb$", "import logger as wandb", code, flags=re.M)
    assert swapped != code
    return PRELUDE + "\n" + swapped


def literal(node: ast.AST, names: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" \
            and not node.args:
        return {k.arg: literal(k.value, names) for k in node.keywords}
    return ast.literal_eval(node)


def is_wandb(node: ast.AST, attr: str) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == attr and \
        isinstance(node.value, ast.Name) and node.value.id == "wandb"


def expectations(code: str) -> dict[str, Any]:
    """What the script logs, read from its own source: init's arguments, config, artifacts, saves."""
    names: dict[str, Any] = {}
    want: dict[str, Any] = {"init": {}, "config": {}, "artifacts": 0, "saves": []}
    for stmt in ast.parse(code).body:
        value = getattr(stmt, "value", None)
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if isinstance(target, ast.Name) and not isinstance(value, ast.Call) or \
                    isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict":
                try:
                    names[target.id] = literal(value, names)
                except (ValueError, AttributeError):
                    pass
            elif is_wandb(target, "config"):
                want["config"].update(literal(value, names))
        for call in [n for n in ast.walk(stmt) if isinstance(n, ast.Call)]:
            if is_wandb(call.func, "init"):
                want["init"] = {k.arg: literal(k.value, names) for k in call.keywords}
                want["config"] = {**want["init"].get("config", {}), **want["config"]}
            elif is_wandb(call.func, "log_artifact"):
                want["artifacts"] += 1
            elif is_wandb(call.func, "save"):
                want["saves"].append(literal(call.args[0], names))
    return want


def test_the_seed_holds_scripts() -> None:
    assert len(SCRIPTS) >= 4, SCRIPTS.keys()


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_a_seed_script_runs_and_reads_back_through_the_api(name: str, tmp_path: Path) -> None:
    code = SCRIPTS[name]
    want = expectations(code)
    script = relkit.write_script(tmp_path, "train.py", as_logger_script(code))
    root = tmp_path / "runs"
    proc = relkit.run_script(script, env=relkit.child_env(RUNWATCH_DIR=str(root)))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", proc.stderr  # no warning, no traceback
    returned = json.loads((tmp_path / "returned.json").read_text())

    (run,) = Api(root).runs()
    init = want["init"]
    assert run.project == init["project"]
    assert run.state == "finished" and run.exit_code == 0
    assert run.notes == init.get("notes") and run.tags == init.get("tags", [])
    assert run.config == want["config"]
    rows = list(run.scan_history())
    assert [(r["loss"], r["accuracy"]) for r in rows] == [tuple(v) for v in returned]
    assert [r["_step"] for r in rows] == list(range(len(returned)))
    if returned:
        assert (run.summary["loss"], run.summary["accuracy"]) == tuple(returned[-1])
        assert run.lastHistoryStep == len(returned) - 1
    artifacts = run.logged_artifacts()
    assert len(artifacts) == want["artifacts"]
    for art in artifacts:
        assert art.type == "model" and len(art.files()) == 1
        assert Api(root).artifact(f"{run.project}/{art.name}:latest").version == art.version
    files = {f["name"]: Path(f["path"]) for f in run.files()}
    assert set(files) == set(want["saves"])
    for saved in want["saves"]:
        assert files[saved].read_bytes() == (tmp_path / saved).read_bytes()
