"""The entity in a run path, as W&B reads it: a run logged with one (init(entity=...) or
$WANDB_ENTITY) is found under that entity only, with an error naming what was asked and
what the run has; a run logged without one has no owner here, and any entity names it."""

from __future__ import annotations

from pathlib import Path

import pytest

import logger
from logger import Api
from logger.compat import local_entity
from tests.test_cli_support import rw


def _team_run(root: Path, **init: object) -> logger.Run:
    with logger.init(project="p", dir=str(root), name="team-run", **init) as run:
        run.log({"loss": 0.5})
    return run


def test_a_run_logged_with_an_entity_says_it_script_side_and_read_back(tmp_path: Path) -> None:
    run = _team_run(tmp_path, entity="vision-team")
    assert (run.entity, run.path) == ("vision-team", f"vision-team/p/{run.id}")
    got = Api(tmp_path).run(run.path)
    assert got.entity == "vision-team" and "/".join(got.path) == run.path
    assert Api(tmp_path).run(f"p/{run.id}").name == "team-run"  # no entity asked: found
    for _cold_then_cached in range(2):  # the index cache's listing keeps it too
        assert [r.entity for r in Api(tmp_path).runs()] == ["vision-team"]


def test_another_entity_finds_no_run_and_says_whose_it_is(tmp_path: Path) -> None:
    run = _team_run(tmp_path, entity="vision-team")
    for path in (f"someone-else/p/{run.id}", f"someone-else/p/runs/{run.id}", f"{local_entity()}/p/{run.id}"):
        asked = path.split("/")[0]
        with pytest.raises(ValueError, match=f"no run {asked}/p/{run.id}: .* entity 'vision-team', "
                                             f"not '{asked}'; name it vision-team/p/{run.id}"):
            Api(tmp_path).run(path)


def test_wandb_entity_from_the_environment_is_recorded(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("WANDB_ENTITY", "env-team")
    run = _team_run(tmp_path)
    monkeypatch.delenv("WANDB_ENTITY")
    assert Api(tmp_path).run(f"env-team/p/{run.id}").entity == "env-team"
    with pytest.raises(ValueError, match="entity 'env-team', not 'vision-team'"):
        Api(tmp_path).run(f"vision-team/p/{run.id}")


def test_a_resume_keeps_the_entity_it_was_logged_with(tmp_path: Path) -> None:
    first = _team_run(tmp_path, entity="vision-team", id="resumed1")
    with logger.init(project="p", dir=str(tmp_path), id="resumed1", resume="must") as again:
        again.log({"loss": 0.25})
    assert again.entity == first.entity == "vision-team"
    assert Api(tmp_path).run("vision-team/p/resumed1").entity == "vision-team"


def test_a_run_logged_without_an_entity_is_found_under_any(tmp_path: Path) -> None:
    with logger.init(project="p", dir=str(tmp_path)) as run:
        pass
    for entity in ("anyone", local_entity()):
        assert Api(tmp_path).run(f"{entity}/p/{run.id}").id == run.id
        assert rw("show", f"{entity}/p/{run.id}", "--root", str(tmp_path)).returncode == 0


@pytest.mark.parametrize("command", [["show"], ["show", "--json"], ["logs"], ["export"], ["tag"]])
def test_the_cli_finds_no_run_of_another_entity(tmp_path: Path, command: list[str]) -> None:
    run = _team_run(tmp_path, entity="vision-team")
    wrong = rw(*command, f"someone-else/p/{run.id}", "--root", str(tmp_path))
    assert wrong.returncode == 2, wrong.stderr
    assert (f"no run someone-else/p/{run.id}: the run p/{run.id} was logged with entity "
            f"'vision-team', not 'someone-else'") in wrong.stderr
    right = rw(*command, run.path, "--root", str(tmp_path))
    assert right.returncode == 0, right.stderr


def test_an_entity_with_a_slash_is_refused_at_init(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="an entity has no '/'"):
        logger.init(project="p", dir=str(tmp_path), entity="a/b")


def test_api_runs_of_entity_slash_project_lists_that_entitys_runs_and_the_ownerless(tmp_path: Path) -> None:
    team = _team_run(tmp_path, entity="vision-team")
    with logger.init(project="p", dir=str(tmp_path)) as ownerless:
        pass
    assert {r.id for r in Api(tmp_path).runs("vision-team/p")} == {team.id, ownerless.id}
    assert [r.id for r in Api(tmp_path).runs("someone-else/p")] == [ownerless.id]
    assert len(Api(tmp_path).runs("p")) == 2


def test_show_and_ls_say_the_entity_a_run_was_logged_with(tmp_path: Path) -> None:
    import json

    team = _team_run(tmp_path, entity="vision-team")
    with logger.init(project="p", dir=str(tmp_path), name="ownerless") as plain:
        pass
    def fields(out: str) -> dict[str, str]:
        return dict(line.split(None, 1) for line in out.splitlines() if len(line.split(None, 1)) == 2)

    assert fields(rw("show", team.path, "--root", str(tmp_path)).stdout)["entity"] == "vision-team"
    assert "entity" not in fields(rw("show", f"p/{plain.id}", "--root", str(tmp_path)).stdout)
    assert json.loads(rw("show", team.path, "--root", str(tmp_path), "--json").stdout)["entity"] == "vision-team"
    listed = [json.loads(line) for line in rw("ls", str(tmp_path), "--json").stdout.splitlines()]
    assert {r["name"]: r["entity"] for r in listed} == {"team-run": "vision-team", "ownerless": None}
