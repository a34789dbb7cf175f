"""Run paths as W&B writes and reads them: the script-side `run.path` ("entity/project/id"),
the Public API's `Run.path` ([entity, project, id]) and every path form `api.run()` and
`api.runs()` take (W&B's `Api._parse_path` / `_parse_project_path`)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import logger
from logger import Api
from logger.compat import local_entity
from tui.cli.runs import cmd_show


def _one_run(root: Path, project: str = "p") -> logger.Run:
    with logger.init(project=project, dir=str(root), name="the-run") as run:
        run.log({"loss": 0.5})
    return run


def test_script_and_public_paths_are_wandb_shaped_and_agree(tmp_path: Path) -> None:
    run = _one_run(tmp_path)
    me = local_entity()
    assert run.path == f"{me}/p/{run.id}" == f"{run.entity}/{run.project}/{run.id}"
    got = Api(tmp_path).run(run.path)
    assert got.path == [me, "p", run.id]
    assert "/".join(got.path) == run.path
    assert repr(got) == f"<Run {run.path} (finished)>"  # W&B's repr names the same path
    listed = Api(tmp_path).runs(f"{me}/p")
    assert [r.path for r in listed] == [got.path] == [r.path for r in Api(tmp_path).runs("p")]


@pytest.mark.parametrize("form", ["{e}/p/{id}", "p/{id}", "{e}/p/runs/{id}", "/{e}/p/runs/{id}/",
                                  "{e}/p:{id}", "p:{id}", " p/{id} ", "someone-else/p/{id}"])
def test_api_run_takes_every_path_wandb_takes(tmp_path: Path, form: str) -> None:
    run = _one_run(tmp_path)
    assert Api(tmp_path).run(form.format(e=local_entity(), id=run.id)).name == "the-run"


def test_a_bare_id_needs_the_project_wandb_takes_from_overrides(tmp_path: Path, monkeypatch) -> None:
    run = _one_run(tmp_path)
    monkeypatch.delenv("WANDB_PROJECT", raising=False)
    with pytest.raises(ValueError, match="use 'project/run_id'"):
        Api(tmp_path).run(run.id)
    assert Api(tmp_path, overrides={"project": "p"}).run(run.id).name == "the-run"
    monkeypatch.setenv("WANDB_PROJECT", "p")
    assert Api(tmp_path).run(run.id).name == "the-run"


def test_paths_wandb_refuses_are_refused(tmp_path: Path) -> None:
    run = _one_run(tmp_path)
    for bad in ["", "/", f"a/b/p/{run.id}", f"e/p/{run.id}/extra"]:
        with pytest.raises(ValueError, match="run path"):
            Api(tmp_path).run(bad)


def test_a_project_named_runs_is_found(tmp_path: Path) -> None:
    """W&B drops only "/runs/" between parts: "runs/<id>" is project "runs"."""
    run = _one_run(tmp_path, project="runs")
    assert Api(tmp_path).run(f"runs/{run.id}").project == "runs"
    assert Api(tmp_path).run(run.path).project == "runs"


@pytest.mark.parametrize("project", ["p", "runs"])
def test_runwatch_show_takes_the_script_side_run_path(tmp_path: Path, project: str) -> None:
    run = _one_run(tmp_path, project)
    for ref in (run.path, f"{project}/{run.id}", f"{run.entity}/{project}/runs/{run.id}"):
        out = io.StringIO()
        assert cmd_show(ref, str(tmp_path), False, out) == 0
        assert "the-run" in out.getvalue()


def test_a_sweep_read_back_has_wandbs_entity_and_path(tmp_path: Path) -> None:
    sid = logger.sweep({"method": "grid", "parameters": {"v": {"values": [1]}}}, project="a",
                       dir=str(tmp_path))
    sweep = Api(tmp_path).sweep(f"{local_entity()}/a/{sid}")
    assert (sweep.entity, sweep.path) == (local_entity(), [local_entity(), "a", sid])
