"""The Public API over a real root: selection, history, files, artifacts, edits."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import logger
from logger import Api, Artifact
from logger.artifacts import ArtifactError
from logger.query import FilterError, parse_filter


def make_runs(root: Path) -> list[logger.Run]:
    runs = []
    for i, (lr, opt, tags) in enumerate([(1e-2, "adam", ["baseline"]), (1e-3, "adam", []),
                                         (1e-4, "sgd", ["baseline", "paper1"])]):
        run = logger.init(project="sweep", name=f"r{i}", config={"lr": lr, "opt": opt},
                          tags=tags, notes=f"note {i}", reinit=True)
        for step in range(20):
            run.log({"loss": (i + 1) / (step + 1), "acc": step / 20})
        run.finish()
        runs.append(run)
    other = logger.init(project="other", name="x", reinit=True)
    other.finish()
    return runs


def test_projects_runs_and_order(root):
    make_runs(root)
    api = Api(root)
    assert [p.name for p in api.projects()] == ["other", "sweep"]
    assert [r.name for r in api.runs("sweep")] == ["r0", "r1", "r2"]  # W&B: oldest first by default
    assert [r.name for r in api.runs("entity/sweep", order="+created_at")] == ["r0", "r1", "r2"]
    assert [r.name for r in api.runs("sweep", order="+summary_metrics.loss")] == ["r0", "r1", "r2"]
    assert len(api.runs()) == 4


@pytest.mark.parametrize("filters, names", [
    ({"config.lr": {"$lte": 1e-3}}, ["r1", "r2"]),
    ({"config.opt": "adam"}, ["r0", "r1"]),
    ({"config.opt.value": "sgd"}, ["r2"]),
    ({"tags": "paper1"}, ["r2"]),
    ({"tags": {"$in": ["baseline"]}}, ["r0", "r2"]),
    ({"tags": {"$nin": ["baseline"]}}, ["r1"]),
    ({"$or": [{"name": "r0"}, {"summary_metrics.loss": {"$gt": 0.14}}]}, ["r0", "r2"]),
    ({"$and": [{"state": "finished"}, {"config.lr": {"$ne": 1e-2}}]}, ["r1", "r2"]),
    ({"display_name": {"$regex": "^r[12]$"}}, ["r1", "r2"]),
    ({"config.missing": {"$exists": False}}, ["r0", "r1", "r2"]),
    ({"group": None}, ["r0", "r1", "r2"]),
    ({"group": "g"}, []),
])
def test_mongo_filters(root, filters, names):
    make_runs(root)
    got = sorted(r.name for r in Api(root).runs("sweep", filters=filters))
    assert got == names


def test_text_filters_mean_the_same_as_mongo_ones(root):
    make_runs(root)
    runs = Api(root).runs("sweep")
    from logger.query import compile_filter

    def names(text: str) -> list[str]:
        pred = compile_filter(text)
        return sorted(r.name for r in runs if pred(r._data))

    assert names("lr<=1e-3") == ["r1", "r2"]
    assert names("lr<=1e-3 tag:baseline") == ["r2"]
    assert names("state:finished opt:adam") == ["r0", "r1"]
    assert names("loss<0.1") == ["r0"]  # not a config key: the summary's
    assert names("NOTE") == ["r0", "r1", "r2"]
    assert names("paper") == ["r2"]
    assert names('notes:"note 1"') == ["r1"]
    with pytest.raises(FilterError, match="no value after"):
        parse_filter("lr<=")
    with pytest.raises(FilterError, match="unknown operator"):
        Api(root).runs("sweep", filters={"config.lr": {"$near": 1}})


def test_history_and_scan_history(root):
    make_runs(root)
    run = Api(root).runs("sweep", filters={"name": "r0"})[0]
    rows = list(run.scan_history())
    assert len(rows) == 20 and rows[3]["_step"] == 3 and rows[3]["loss"] == 0.25
    assert {"_timestamp", "_runtime"} <= set(rows[0])
    assert [r["_step"] for r in run.scan_history(min_step=5, max_step=8)] == [5, 6, 7]
    sampled = run.history(samples=5, pandas=False)
    assert len(sampled) == 5 and sampled[0]["_step"] == 0 and sampled[-1]["_step"] == 19
    only = run.history(keys=["loss"], pandas=False, samples=1000)
    assert set(only[0]) == {"_step", "loss"} and len(only) == 20
    try:
        import pandas  # noqa: F401
    except ImportError:  # W&B warns and returns the list of dicts (tests/test_api_corners.py)
        assert run.history(samples=5) == sampled
    else:
        assert list(run.history(keys=["acc"]).columns) == ["_step", "acc"]


def test_api_run_by_path_and_errors(root):
    runs = make_runs(root)
    api = Api(root)
    assert api.run(f"sweep/{runs[0].id}").name == "r0"
    assert api.run(f"me/sweep/runs/{runs[0].id}").name == "r0"
    with pytest.raises(ValueError, match="no run sweep/nope"):
        api.run("sweep/nope")
    with pytest.raises(ValueError, match="use 'project/run_id'"):
        api.run("justone")
    assert api.run(f"sweep/{runs[0].id}").metadata["python"]


def test_edits_through_api_update_are_editor_segments(root):
    (r0, *_rest) = make_runs(root)
    api_run = Api(root).run(r0.path)
    before = {p.name for p in r0.run_dir.iterdir()}
    api_run.tags = ["baseline", "best"]
    api_run.notes = "edited"
    api_run.name = "renamed"
    api_run.update()
    new = {p.name for p in r0.run_dir.iterdir()} - before
    assert len(new) == 3 and all("editor" in n for n in new)
    again = Api(root).run(r0.path)
    assert (again.tags, again.notes, again.name) == (["baseline", "best"], "edited", "renamed")


def test_save_copies_into_files_and_refuses_escapes(root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "a.pt").write_bytes(b"a")
    (tmp_path / "ckpt" / "b.pt").write_bytes(b"bb")
    (tmp_path / "secret.txt").write_text("no")
    run = logger.init(project="p")
    assert run.save("ckpt/*.pt") == ["a.pt", "b.pt"]
    assert run.save("ckpt/a.pt", base_path=".", policy="now") == ["ckpt/a.pt"]
    with pytest.raises(ValueError, match="outside base_path"):
        run.save("../*/secret.txt", base_path="ckpt")
    with pytest.raises(ValueError, match="policy='sometimes'"):
        run.save("x", policy="sometimes")
    (tmp_path / "late.txt").write_text("late")
    run.save("late.txt", policy="end")
    Path(run.dir, "direct.txt").write_text("d")
    run.finish()
    files = {f["name"]: f for f in Api(root).run(run.path).files()}
    assert set(files) == {"a.pt", "b.pt", "ckpt/a.pt", "late.txt", "direct.txt"}
    assert files["b.pt"]["size"] == 2
    assert Path(files["late.txt"]["path"]).read_text() == "late"
    assert not any("secret" in str(p) for p in (root).rglob("*"))


def test_artifacts_are_versioned_by_content(root, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.csv").write_text("1,2\n")
    run = logger.init(project="p")
    a0 = run.log_artifact(data, name="dataset", type="dataset")
    a_same = run.log_artifact(data, name="dataset", type="dataset", aliases=["best"])
    (data / "train.csv").write_text("1,2\n3,4\n")
    a1 = run.log_artifact(data, name="dataset", type="dataset")
    assert (a0.version, a_same.version, a1.version) == ("v0", "v0", "v1")
    art = Artifact("model", "model")
    art.add_file(data / "train.csv", name="weights/w.bin")
    run.log_artifact(art)
    run.finish()
    api = Api(root)
    assert api.artifact("p/dataset").version == "v1"
    assert api.artifact("p/dataset:latest").aliases == ["latest"]
    best = api.artifact("p/dataset:best")
    assert best.version == "v0" and best.aliases == ["best"]
    assert [f["name"] for f in api.artifact("p/model:v0").files()] == ["weights/w.bin"]
    out = best.download(tmp_path / "out")
    assert (Path(out) / "train.csv").read_text() == "1,2\n"
    assert [a.version for a in api.run(run.path).logged_artifacts()] == ["v0", "v0", "v1", "v0"]
    with pytest.raises(ArtifactError, match="no artifact 'nope'.*has: dataset, model"):
        api.artifact("p/nope")
    with pytest.raises(ArtifactError, match="no alias 'worst'"):
        api.artifact("p/dataset:worst")


def test_a_python_object_is_pickled_and_never_loaded_back(root, tmp_path):
    marker = tmp_path / "unpickled"

    class Model:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    run = logger.init(project="p")
    art = run.log_artifact(Model())
    run.finish()
    assert art.type == "model" and art.name == "model"
    api = Api(root)
    fetched = api.artifact("p/model:latest")
    fetched.download(tmp_path / "dl")
    assert (tmp_path / "dl" / "model.pkl").stat().st_size > 0
    assert not marker.exists()


def test_concurrent_processes_never_share_a_version(root, tmp_path):
    from logger.artifacts import _store

    files = []
    for i in range(8):
        f = tmp_path / f"f{i}"
        f.write_text(str(i))
        files.append(f)
    versions: list[str] = []

    def store(f: Path) -> None:
        art = Artifact("shared", "data").add_file(f, name="x")
        _store(root, "p", art, [], "r")
        versions.append(art.version or "")

    threads = [threading.Thread(target=store, args=(f,)) for f in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(versions, key=lambda v: int(v[1:])) == [f"v{i}" for i in range(8)]
    assert not [p for p in (root / "p" / "artifacts" / "shared").iterdir() if p.name.startswith(".")]
