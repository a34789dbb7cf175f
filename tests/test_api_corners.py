"""W&B scripts that broke against `logger.Api()`: the run's url, entity, user, heartbeat_at,
system_metrics and sweep; `api.flush()`, `api.project()`, `api.artifacts()`; history()
without pandas; history()'s sampling as its docstring says."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import logger
from logger import Api
from logger import events as ev
from logger.api import Run
from logger.artifacts import ArtifactError
from logger.history_table import positions
from logger.segfile import write_segment
from tests.conftest import script_env

NO_STATS = {"x_disable_stats": True}


def test_the_runs_url_entity_and_user_agree_with_the_script_side_run(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with logger.init(project="p", settings=NO_STATS) as run:
        run.log({"loss": 1.0})
    got = Api(root).run(run.path)
    assert got.url == run.url and got.url.startswith("file://")
    assert got.entity == run.entity
    assert got.user.username == got.user.name == run.entity and repr(got.user) == f"<User {run.entity}>"
    assert got.username == run.entity and "Run.username is deprecated" in capsys.readouterr().err


def test_heartbeat_at_is_the_last_event_and_system_metrics_the_last_sample(root: Path) -> None:
    with logger.init(project="p", settings=NO_STATS) as run:
        run.log({"loss": 1.0})
        start = time.time()
    assert Api(root).run(run.path).system_metrics == {}  # W&B's empty systemMetrics
    later = start + 3600  # two samples from another writer (the run's sampler was off)
    write_segment(run.run_dir, run.id, "script", [
        ev.SystemStats(time=start + 1, values={"cpu": 1.0}),
        ev.SystemStats(time=later, values={"cpu": 50.0, "gpu.0.gpu": 7.0})])
    got = Api(root).run(run.path)
    assert got.heartbeat_at == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(later))
    assert got.created_at <= got.heartbeat_at
    metrics = got.system_metrics
    assert metrics["system.cpu"] == 50.0 and metrics["system.gpu.0.gpu"] == 7.0
    assert metrics == got.history(stream="system", pandas=False)[-1]  # the stream's last row


def test_a_sweep_trial_has_its_sweep_and_another_run_none(root: Path) -> None:
    config = {"method": "grid", "parameters": {"lr": {"values": [0.1]}}}
    sweep_id = logger.sweep(config, project="p")

    def trial() -> None:
        with logger.init(settings=NO_STATS) as run:
            run.log({"loss": run.config["lr"]})

    logger.agent(sweep_id, function=trial, count=1)
    with logger.init(project="p", settings=NO_STATS) as alone:
        alone.log({"loss": 0.0})
    runs = {r.id: r for r in Api(root).runs("p")}
    assert runs[alone.id].sweep is None and runs[alone.id].sweep_name is None
    (trial_run,) = [r for r in runs.values() if r.id != alone.id]
    assert trial_run.sweep.id == sweep_id and trial_run.sweep_name == sweep_id
    assert [r.id for r in trial_run.sweep.runs] == [trial_run.id]


def test_runs_are_kept_until_flush_as_wandbs_api_keeps_them(root: Path) -> None:
    api = Api(root)
    run = logger.init(project="p", settings=NO_STATS)
    run.log({"loss": 1.0})
    first = api.runs("p")
    assert api.run(run.path).state == "running"
    run.finish()
    with logger.init(project="p", settings=NO_STATS) as other:
        other.log({"loss": 2.0})
    assert api.runs("p") is first and len(first) == 1  # W&B: "you must clear the local cache"
    assert first[0].state == "running" and api.runs() is not first  # another query reads anew
    assert api.run(run.path).state == "finished"  # one run by path is read anew (logger/api.py)
    api.flush()
    assert [r.state for r in api.runs("p")] == ["finished", "finished"]


def test_project_by_name_as_wandbs(root: Path) -> None:
    with logger.init(project="p", settings=NO_STATS) as run:
        run.log({"loss": 1.0})
    api = Api(root)
    project = api.project("p")
    assert project.name == "p" and project.entity == run.entity
    assert project.path == [run.entity, "p"] and project.url == run.get_project_url()
    assert repr(project) == f"<Project {run.entity}/p>"
    assert [(p.name, p.path) for p in api.projects()] == [("p", project.path)]
    assert api.project("not-yet").name == "not-yet"  # W&B's needs no runs either


def test_artifacts_lists_a_collections_versions_newest_first(root: Path, tmp_path: Path) -> None:
    data = tmp_path / "w.bin"
    with logger.init(project="p", settings=NO_STATS) as run:
        for text in ("one", "two"):
            data.write_text(text)
            run.log_artifact(data, name="model", type="model")
    api = Api(root)
    assert [a.version for a in api.artifacts("model", "p/model")] == ["v1", "v0"]
    assert [a.version for a in api.artifacts("model", f"{run.entity}/p/model", order="+created_at")] == ["v0", "v1"]
    assert api.artifacts("model", "p/model")[0].aliases == ["latest"]
    with pytest.raises(ArtifactError, match="of type 'dataset'"):
        api.artifacts("dataset", "p/model")
    with pytest.raises(ArtifactError, match="use 'project/name'"):
        api.artifacts("model", "model")
    with pytest.raises(ArtifactError):
        api.artifacts("model", "p/../model")


def test_history_without_pandas_warns_and_gives_the_list_as_wandb(root: Path, tmp_path: Path) -> None:
    code = textwrap.dedent(f"""
        import sys
        sys.modules["pandas"] = None  # pandas cannot be imported, whether installed or not
        import logger
        with logger.init(project="p", dir={str(root)!r}, settings={NO_STATS!r}) as run:
            for i in range(5):
                run.log({{"loss": i / 10}})
        got = logger.Api({str(root)!r}).run(run.path)
        rows = got.history()
        assert rows == got.history(pandas=False) and [r["loss"] for r in rows] == [0, .1, .2, .3, .4], rows
        assert got.history(stream="system") == []
        print("ok")
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=script_env(), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
    assert proc.stderr.count("wandb: WARNING Unable to load pandas, call history with pandas=False") == 2  # not for pandas=False


def test_history_samples_as_its_docstring_says(root: Path) -> None:
    with logger.init(project="p", settings=NO_STATS) as run:
        for i in range(100):
            run.log({"loss": float(i)})
    doc = " ".join((Run.history.__doc__ or "").split())
    assert "spread evenly" not in doc and "first and last" in doc and "random" in doc and "seeded" in doc
    got = Api(root).run(run.path)
    steps = [r["_step"] for r in got.history(samples=10, pandas=False)]
    assert steps == positions(100, 10) and steps[0] == 0 and steps[-1] == 99
    assert len({b - a for a, b in zip(steps, steps[1:])}) > 1  # not evenly spaced: W&B's are not
    assert steps == [r["_step"] for r in Api(root).run(run.path).history(samples=10, pandas=False)]
    assert [r["_step"] for r in got.history(samples=1, pandas=False)] == [0]
    assert [r["_step"] for r in got.history(samples=2, pandas=False)] == [0, 99]
    with pytest.raises(ValueError, match="samples=-1"):
        got.history(samples=-1, pandas=False)


def test_the_system_stream_samples_by_the_metrics_rule(root: Path) -> None:
    """history(stream="system", samples=N) picks rows as history(samples=N) does: samples=1 and
    2 gave every row (a `> 2` guard), a negative count no error."""
    with logger.init(project="p", settings=NO_STATS) as run:
        run.log({"loss": 1.0})
        start = time.time()
    write_segment(run.run_dir, run.id, "script",
                  [ev.SystemStats(time=start + i, values={"cpu": float(i)}) for i in range(10)])
    got = Api(root).run(run.path)
    cpu = [r["system.cpu"] for r in got.history(stream="system", pandas=False, samples=0)]
    assert cpu == [float(i) for i in range(10)]
    for n in (1, 2, 5):
        rows = got.history(stream="system", pandas=False, samples=n)
        assert [r["system.cpu"] for r in rows] == [cpu[i] for i in positions(10, n)], n
    with pytest.raises(ValueError, match="samples=-1"):
        got.history(stream="system", pandas=False, samples=-1)
