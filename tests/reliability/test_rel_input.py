"""Bad and hostile input on the logger side: every public call fed wrong types and values
gives a clear error naming the parameter; odd but valid values are stored as given; nothing
read is ever executed or unpickled; files follow the user's umask."""

from __future__ import annotations

import math
import pickle
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import relkit

import logger
from logger.api import Api
from logger.artifacts import Artifact, ArtifactError
from logger.config import ConfigError
from logger.edit import EditError, edit_name, edit_notes, edit_tags
from logger.run import RunFinishedError
from logger.sdk import RunwatchError
from logger.writer import RunwatchWarning


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The run root, in a working directory of its own (so '..' is still the test's)."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for name in ("RUNWATCH_DIR", "RUNWATCH_MODE", "WANDB_MODE"):
        monkeypatch.delenv(name, raising=False)
    (work / "weights.bin").write_bytes(b"\x00" * 100)
    (work / "not-a-dir").write_text("x")
    return work / "runs"


@pytest.fixture(autouse=True)
def _finish_runs() -> Any:
    yield
    from logger import sdk

    for run in list(sdk._active):
        run.finish()


def segments_under(root: Path) -> list[Path]:
    return sorted(root.rglob("*.rws")) if root.exists() else []


# -- init ---------------------------------------------------------------------------------------
INIT_CASES = [
    ("project-int", dict(project=123), TypeError, r"project must be a str, not int"),
    ("project-slash", dict(project="a/b"), ValueError, r"invalid project 'a/b': '/' and '\\' are not allowed"),
    ("project-dotdot", dict(project="../x"), ValueError, r"invalid project '\.\./x'"),
    ("project-empty", dict(project=""), ValueError, r"invalid project '': it is empty"),
    ("project-nul", dict(project="a\x00b"), ValueError, r"invalid project .*control characters"),
    ("project-long", dict(project="p" * 10_000), ValueError, r"invalid project .*limit is 128"),
    ("id-int", dict(id=5), TypeError, r"id must be a str, not int"),
    ("id-space", dict(id="a b"), ValueError, r"invalid run id 'a b': use 1-64 letters, digits"),
    ("id-dotdot", dict(id="../x"), ValueError, r"invalid run id '\.\./x': use 1-64"),
    ("id-nul", dict(id="a\x00"), ValueError, r"invalid run id .*use 1-64"),
    ("id-long", dict(id="i" * 10_000), ValueError, r"invalid run id .*use 1-64"),
    ("id-reserved", dict(id="artifacts"), ValueError, r"invalid run id 'artifacts'.*not artifacts"),
    ("id-reserved-sweeps", dict(id="sweeps"), ValueError, r"invalid run id 'sweeps'.*not artifacts, sweeps"),
    ("name-int", dict(name=5), TypeError, r"name must be a str, not int"),
    ("name-nul", dict(name="a\x00b"), ValueError, r"invalid name .*NUL"),
    ("name-long", dict(name="n" * 10_000), ValueError, r"name is 10000 characters long; the limit is 256"),
    ("notes-int", dict(notes=5), TypeError, r"notes must be a str, not int"),
    ("group-list", dict(group=["g"]), TypeError, r"group must be a str, not list"),
    ("job_type-int", dict(job_type=1), TypeError, r"job_type must be a str, not int"),
    ("tags-str", dict(tags="baseline"), TypeError, r"tags must be a list of strings.*not one string"),
    ("tags-int", dict(tags=5), TypeError, r"tags must be a list of strings, not int"),
    ("tags-item", dict(tags=["ok", 1]), TypeError, r"each tag must be a str, not int"),
    ("tags-nul", dict(tags=["a\x00"]), ValueError, r"tag .*NUL"),
    ("tags-long", dict(tags=["t" * 10_000]), ValueError, r"tag .*10000 characters; the limit is 256"),
    ("config-int", dict(config=5), TypeError, r"config takes a dict or an argparse.Namespace, not int"),
    ("config-list", dict(config=[("a", 1)]), TypeError, r"config takes a dict or an argparse.Namespace"),
    ("config-file", dict(config="params.yaml"), TypeError, r"config from a file: load it yourself"),
    ("resume-bogus", dict(resume="sometimes"), ValueError, r"resume='sometimes': use 'allow', 'must' or 'never'"),
    ("resume-must", dict(id="nope", resume="must"), ValueError, r"resume='must' but run uncategorized/nope does not exist"),
    ("mode-bogus", dict(mode="loud"), ValueError, r"mode 'loud': use 'online' or 'offline' .* or 'disabled'"),
    ("dir-file", dict(dir="not-a-dir"), NotADirectoryError, r"run root not-a-dir is a file; pass dir= a directory"),
]


@pytest.mark.parametrize(("kwargs", "exc", "message"), [c[1:] for c in INIT_CASES],
                         ids=[c[0] for c in INIT_CASES])
def test_init_refuses_bad_arguments_by_name(kwargs: dict[str, Any], exc: type, message: str,
                                            runs: Path) -> None:
    with pytest.raises(exc, match=message):
        logger.init(**{"dir": runs, **kwargs})
    assert logger.run is None, "a refused init left a run behind"
    assert segments_under(runs) == [], "a refused init wrote a segment"


def test_init_refuses_an_existing_id_without_resume(runs: Path) -> None:
    logger.init(dir=runs, id="taken").finish()
    with pytest.raises(ValueError, match=r"run uncategorized/taken already exists .*resume='allow'"):
        logger.init(dir=runs, id="taken")


# -- calls on a run -------------------------------------------------------------------------------
def _save_outside(run: Any) -> Any:
    (Path.cwd().parent / "outside.txt").write_text("secret")
    return logger.save("../outside.txt", base_path=".")


def _save_dotdot(run: Any) -> Any:
    (Path.cwd().parent / "x").write_text("secret")
    return logger.save("../x")


def case(name: str, call: Callable[[Any], Any], exc: type, message: str, marks: Any = ()) -> Any:
    return pytest.param(call, exc, message, id=name, marks=marks)


RUN_CASES: list[Any] = [
    # (id, call on the run, exception, what its message must say)
    case("log-str", lambda r: logger.log("loss"), TypeError, r"log\(\) takes a dict of values, like log\(\{'loss': 0.1\}\), not str"),
    case("log-list", lambda r: logger.log([("loss", 1)]), TypeError, r"log\(\) takes a dict .*not list"),
    case("log-none", lambda r: r.log(None), TypeError, r"log\(\) takes a dict .*not NoneType"),
    case("log-step-str", lambda r: logger.log({"a": 1}, step="x"), TypeError, r"step must be an int, not str"),
    case("log-step-list", lambda r: logger.log({"a": 1}, step=[1]), TypeError, r"step must be an int, not list"),
    case("log-step-huge", lambda r: logger.log({"a": 1}, step=2**63), ValueError, r"step"),
    case("config-change", lambda r: r.config.update({"lr": 0.2}), ConfigError,
     r"config key 'lr' already set to 0.1; pass allow_val_change=True to change it"),
    case("config-setattr", lambda r: setattr(logger.config, "lr", 0.3), ConfigError, r"config key 'lr' already set"),
    case("config-setitem", lambda r: r.config.__setitem__("lr", 0.3), ConfigError, r"allow_val_change=True"),
    case("config-delete", lambda r: r.config.__delitem__("lr"), ConfigError, r"config keys cannot be removed"),
    case("define-metric-summary", lambda r: logger.define_metric("loss", summary="bogus"), ValueError,
     r"define_metric summary 'bogus': use min, max, mean, first, last or none"),
    case("define-metric-name", lambda r: logger.define_metric(5), TypeError, r"define_metric needs a metric name"),
    case("define-metric-summary-int", lambda r: logger.define_metric("loss", summary=5), TypeError,
                 r"summary"),
    case("define-metric-step-metric-int", lambda r: logger.define_metric("loss", step_metric=5),
                 TypeError, r"step_metric"),
    case("save-outside-base", _save_outside, ValueError, r"outside base_path '\.'.*outside the run directory"),
    case("save-dotdot", _save_dotdot, ValueError, r"\.\./x"),
    case("save-int", lambda r: logger.save(5), TypeError, r"save\(\)"),
    case("save-empty", lambda r: logger.save(""), ValueError, r"save\(\) needs a file name or glob"),
    case("save-policy", lambda r: logger.save("weights.bin", policy="sometimes"), ValueError,
     r"save\(policy='sometimes'\): use one of live, now, end"),
    case("artifact-missing", lambda r: logger.log_artifact("no/such/path"), FileNotFoundError,
     r"log_artifact: no/such/path does not exist"),
    case("artifact-name-dotdot", lambda r: logger.log_artifact("weights.bin", name="../x"), ValueError,
     r"invalid artifact name '\.\./x': '/'"),
    case("artifact-name-slash", lambda r: logger.log_artifact("weights.bin", name="a/b"), ValueError,
     r"invalid artifact name 'a/b'"),
    case("artifact-name-nul", lambda r: logger.log_artifact("weights.bin", name="a\x00b"), ValueError,
     r"invalid artifact name .*control characters"),
    case("artifact-name-long", lambda r: logger.log_artifact("weights.bin", name="a" * 10_000), ValueError,
     r"invalid artifact name .*10000 characters long; the limit is 128"),
    case("artifact-name-dot", lambda r: logger.log_artifact("weights.bin", name=".."), ValueError,
     r"invalid artifact name '\.\.': it may not start with '\.'"),
    case("artifact-name-colon", lambda r: logger.log_artifact("weights.bin", name="m:v1"), ValueError,
     r"invalid artifact name 'm:v1': ':' is not allowed"),
    case("artifact-type", lambda r: logger.log_artifact("weights.bin", type="a/b"), ValueError,
     r"invalid artifact type 'a/b'"),
    case("artifact-aliases-str", lambda r: logger.log_artifact("weights.bin", aliases="best"), TypeError,
     r"aliases must be a list of strings"),
    case("artifact-alias-version", lambda r: logger.log_artifact("weights.bin", aliases=["v3"]), ValueError,
     r"alias 'v3' looks like a version"),
    case("Artifact-name", lambda r: Artifact("../x", "model"), ValueError, r"invalid artifact name '\.\./x'"),
    case("Artifact-name-nul", lambda r: Artifact("x\x00", "model"), ValueError, r"invalid artifact name"),
    case("Artifact-add-missing", lambda r: Artifact("m", "model").add_file("nope.bin"), FileNotFoundError,
     r"Artifact.add_file: nope.bin is not a file"),
    case("Artifact-add-dir-file", lambda r: Artifact("m", "model").add_dir("weights.bin"), NotADirectoryError,
     r"Artifact.add_dir: weights.bin is not a directory"),
    case("Artifact-entry-dotdot", lambda r: Artifact("m", "model").add_file("weights.bin", name="../w"),
     ValueError, r"artifact entry name '\.\./w' must be a relative path"),
    case("tags-attr-str", lambda r: setattr(r, "tags", "abc"), TypeError, r"tags must be a list of strings"),
    case("notes-attr-int", lambda r: setattr(r, "notes", 5), TypeError, r"notes must be a str, not int"),
    case("name-attr-int", lambda r: setattr(r, "name", 5), TypeError, r"name must be a str, not int"),
    case("summary-update-list", lambda r: r.summary.update([1]), TypeError, r"summary.update takes a dict"),
    case("edit-tags-str", lambda r: edit_tags(r.run_dir, r.id, add="abc"), TypeError,
     r"tags must be a list of strings, not one string"),
    case("edit-notes-int", lambda r: edit_notes(r.run_dir, r.id, 5), TypeError, r"notes must be a str, not int"),
    case("edit-name-empty", lambda r: edit_name(r.run_dir, r.id, "  "), ValueError, r"run name must be a non-empty"),
    case("edit-missing-run", lambda r: edit_tags(r.run_dir.parent / "nope", "nope", add=["x"]), EditError,
     r"cannot save tags: run directory .*nope does not exist"),
    case("api-run-path", lambda r: Api(r._root).run("no-slash"), ValueError, r"run path 'no-slash': use 'project/run_id'"),
    case("api-run-missing", lambda r: Api(r._root).run("p/nope"), ValueError, r"no run p/nope under"),
    case("api-artifact-path", lambda r: Api(r._root).artifact("model"), ValueError,
     r"artifact 'model': use 'project/name:alias'"),
    case("api-artifact-missing", lambda r: Api(r._root).artifact("p/nope:latest"), ArtifactError,
     r"no artifact 'nope' in project 'p'"),
]


@pytest.mark.parametrize(("call", "exc", "message"), RUN_CASES)
def test_run_calls_refuse_bad_arguments_by_name(call: Callable[[Any], Any], exc: type, message: str,
                                                runs: Path) -> None:
    run = logger.init(dir=runs, project="p", id="r", config={"lr": 0.1})
    logger.log({"loss": 1.0})
    with pytest.raises(exc, match=message):
        call(run)
    # The run carries on after the refusal, and nothing odd reached its file.
    logger.log({"loss": 0.5})
    logger.finish()
    data = relkit.read_root(runs).runs["p/r"]
    assert data.state == "finished" and data.skipped_frames == 0
    assert data.history.series("loss")[1] == [1.0, 0.5] and data.config["lr"] == 0.1


def test_misuse_outside_a_run_says_what_to_do(runs: Path) -> None:
    with pytest.raises(RunwatchError, match=r"logger.log\(\) needs a run: call logger.init"):
        logger.log({"a": 1})
    with pytest.raises(RunwatchError, match=r"logger.config is not available yet: call logger.init"):
        logger.config.lr  # noqa: B018
    run = logger.init(dir=runs)
    run.finish()
    with pytest.raises(RunFinishedError, match=r"has finished; call logger.init\(\) to start a new run"):
        run.log({"a": 1})


# -- text that is just text ---------------------------------------------------------------------
TEXTS = ["🚀 launch", "שלום עולם", "مرحبا بالعالم", "混合 text ✓", "e\u0301", "\u202eevil\u202c"]


def test_emoji_and_right_to_left_text_are_accepted_where_they_are_text(runs: Path) -> None:
    run = logger.init(dir=runs, project="проект-🚀", id="t", name=TEXTS[0], notes=TEXTS[2],
                      tags=TEXTS, group=TEXTS[1], job_type=TEXTS[3], config={TEXTS[1]: TEXTS[2]})
    logger.log({TEXTS[0]: 1.0, "text": TEXTS[1]})
    art = logger.log_artifact("weights.bin", name="模型-🚀", type="模型", aliases=["最好"])
    logger.finish()
    edit_tags(run.run_dir, "t", add=["✓ checked"])
    edit_notes(run.run_dir, "t", TEXTS[1])
    edit_name(run.run_dir, "t", "اسم")
    got = Api(runs).run("проект-🚀/t")
    assert (got.name, got.notes, got.group, got.job_type) == ("اسم", TEXTS[1], TEXTS[1], TEXTS[3])
    assert got.tags == [*TEXTS, "✓ checked"]
    assert got.config == {TEXTS[1]: TEXTS[2]} and got.summary[TEXTS[0]] == 1.0
    assert [r[TEXTS[0]] for r in got.scan_history()] == [1.0]
    assert art.version == "v0"
    back = Api(runs).artifact("проект-🚀/模型-🚀:最好")
    assert (back.name, back.type, back.version) == ("模型-🚀", "模型", "v0")


# -- values -------------------------------------------------------------------------------------
def read_back(runs: Path, ref: str = "p/v") -> Any:
    return relkit.read_root(runs).runs[ref]


def test_a_megabyte_string_and_ten_thousand_keys(runs: Path) -> None:
    big = "é" * 500_000 + "x" * 1  # 1 MB of UTF-8
    keys = {f"metric/{i:05d}": i * 0.5 for i in range(10_000)}
    logger.init(dir=runs, project="p", id="v", notes=big, config={"blob": big})
    logger.log({"s": big})
    logger.log(keys)
    logger.finish()
    run = read_back(runs)
    assert run.notes == big and run.config["blob"] == big
    assert run.history.rows().__next__()["s"] == big
    summary = run.summary_flat()
    assert len([k for k in summary if k.startswith("metric/")]) == 10_000
    assert all(summary[k] == v for k, v in keys.items())
    assert run.skipped_frames == 0


def nest(depth: int) -> dict[str, Any]:
    top = node = {}
    for _ in range(depth):
        node["a"] = {}
        node = node["a"]
    node["x"] = 1.5
    return top


def test_deep_nesting_is_flattened_and_nested_again(runs: Path) -> None:
    logger.init(dir=runs, project="p", id="v")
    logger.log({"n": nest(60), "loss": 0.1})
    logger.finish()
    run = read_back(runs)
    key = "n." + "a." * 60 + "x"
    assert run.history.series(key)[1] == [1.5]
    node = run.summary["n"]
    for _ in range(60):
        node = node["a"]
    assert node == {"x": 1.5}


def test_absurd_nesting_never_raises_into_the_training_loop(runs: Path) -> None:
    logger.init(dir=runs, project="p", id="v")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunwatchWarning)
        logger.log({"n": nest(5000)})
    logger.log({"loss": 0.1})
    logger.finish()
    assert read_back(runs).history.series("loss")[1] == [0.1]


class Opaque:
    """Something msgspec cannot encode."""

    def __repr__(self) -> str:
        return "<Opaque thing>"


def test_unencodable_objects_are_kept_as_repr_with_one_warning(runs: Path) -> None:
    logger.init(dir=runs, project="p", id="v")
    with pytest.warns(RunwatchWarning) as record:
        for i in range(5):
            logger.log({"loss": float(i), "obj": Opaque(), "fn": len})
    logger.finish()
    messages = [str(w.message) for w in record]
    assert len([m for m in messages if "'obj'" in m]) == 1, messages
    assert len([m for m in messages if "'fn'" in m]) == 1, messages
    assert all("repr" in m for m in messages)
    run = read_back(runs)
    assert run.history.series("loss")[1] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert [row["obj"] for row in run.history.rows()] == ["<Opaque thing>"] * 5
    assert run.summary_flat()["fn"] == repr(len)


def test_numpy_scalars_and_arrays_are_stored_as_plain_values(runs: Path) -> None:
    np = pytest.importorskip("numpy")
    values = {
        "f32": np.float32(0.25), "f64": np.float64(1e-300), "f16": np.float16(0.5),
        "i64": np.int64(-7), "i8": np.int8(3), "u64": np.uint64(2**64 - 1), "bool": np.bool_(True),
        "zero_d": np.array(3.5), "vec": np.arange(4, dtype=np.int32), "mat": np.eye(2),
        "nan": np.float32("nan"), "nested": {"g": np.float64(2.0)},
    }
    logger.init(dir=runs, project="p", id="v", config={"lr": np.float32(0.25), "shape": np.array([2, 3])})
    logger.log(values, step=np.int64(5))
    logger.finish()
    run = read_back(runs)
    (row,) = run.history.rows()
    assert row["_step"] == 5
    expected = {"f32": 0.25, "f64": 1e-300, "f16": 0.5, "i64": -7, "i8": 3, "u64": 2**64 - 1,
                "bool": True, "zero_d": 3.5, "vec": [0, 1, 2, 3], "mat": [[1.0, 0.0], [0.0, 1.0]],
                "nested.g": 2.0}
    for key, want in expected.items():
        assert row[key] == want and type(row[key]) is type(want), (key, row[key])
    assert math.isnan(row["nan"])
    assert run.config == {"lr": 0.25, "shape": [2, 3]}


def test_nan_and_inf_are_kept(runs: Path) -> None:
    logger.init(dir=runs, project="p", id="v", config={"eps": math.inf})
    logger.log({"nan": math.nan, "inf": math.inf, "ninf": -math.inf, "neg0": -0.0})
    logger.finish()
    run = read_back(runs)
    summary = run.summary_flat()
    assert math.isnan(summary["nan"]) and summary["inf"] == math.inf and summary["ninf"] == -math.inf
    assert math.copysign(1.0, summary["neg0"]) == -1.0
    xs, ys = run.history.series("nan")
    assert xs == [0.0] and math.isnan(ys[0])
    assert run.config["eps"] == math.inf


# -- security -----------------------------------------------------------------------------------
class Booby:
    """Unpickling this creates a file: proof that someone unpickled it."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return (open, (self.marker, "w"))


def test_no_reader_unpickles_a_logged_object(runs: Path, tmp_path: Path) -> None:
    marker = tmp_path / "UNPICKLED"
    logger.init(dir=runs, project="p", id="v")
    logger.log({"loss": 0.1})
    art = logger.log_artifact(Booby(str(marker)), name="booby", type="model")
    logger.finish()
    assert art is not None and not marker.exists()
    # Everything a reader does with the run and the artifact.
    api = Api(runs)
    for run in api.runs():
        run.summary, run.config, list(run.scan_history()), run.files()  # noqa: B018
        arts = run.logged_artifacts()
        assert [a.name for a in arts] == ["booby"]
    back = api.artifact("p/booby:latest")
    back.files()
    where = Path(back.download(tmp_path / "download"))
    relkit.exercise(read_back(runs))
    assert not marker.exists(), "a reader unpickled the artifact"
    # The test can fail: unpickling what was stored does create the file.
    (stored,) = [p for p in where.rglob("*") if p.is_file()]
    pickle.loads(stored.read_bytes()).close()
    assert marker.exists()


UMASK = r"""
import os, sys
os.umask(int(sys.argv[1], 8))
import logger
from logger.api import Api
from logger.edit import edit_notes, edit_tags
os.makedirs("data/sub", exist_ok=True)
open("data/sub/a.bin", "wb").write(b"a" * 100)
open("model.pt", "wb").write(b"m" * 100)
run = logger.init(project="p", id="u", dir="runs", config={"lr": 0.1})
logger.log({"loss": 0.5})
logger.log_artifact("data", name="dataset", type="dataset", aliases=["best"])
logger.log_artifact({"weights": [1, 2]}, name="obj")
logger.save("model.pt")
open(os.path.join(run.dir, "notes.txt"), "w").write("x")
logger.finish()
edit_tags(run.run_dir, "u", add=["x"])
edit_notes(run.run_dir, "u", "n")
Api("runs").artifact("p/dataset:best").download("downloaded")
"""


def modes(root: Path) -> dict[str, int]:
    out = {}
    for path in [root, *root.rglob("*")]:
        out[str(path.relative_to(root.parent))] = path.stat().st_mode & 0o777
    return out


_UMASK_TREES: dict[str, Any] = {}


def umask_run(umask: str, factory: pytest.TempPathFactory) -> Any:
    """(mask, {path: mode}, work dir) of one script run under `umask`, made once per session."""
    if umask not in _UMASK_TREES:
        work = factory.mktemp(f"umask{umask}")
        proc = relkit.run_script(relkit.write_script(work, "umask.py", UMASK), umask)
        assert proc.returncode == 0, proc.stderr
        _UMASK_TREES[umask] = (int(umask, 8), {**modes(work / "runs"), **modes(work / "downloaded")}, work)
    return _UMASK_TREES[umask]


@pytest.fixture(params=["022", "077"])
def umask_tree(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return umask_run(request.param, tmp_path_factory)


def test_files_and_directories_follow_the_umask(umask_tree: Any) -> None:
    mask, found, work = umask_tree
    assert len(found) > 15
    wrong = {}
    for path, mode in found.items():
        if path.endswith(".json") and "/artifacts/" in path:
            continue  # manifests: their own test below
        want = (0o777 if (work / path).is_dir() else 0o666) & ~mask
        if mode != want:
            wrong[path] = oct(mode)
    assert not wrong, f"modes not from umask {mask:03o}: {wrong}"


def test_artifact_manifests_follow_the_umask(tmp_path_factory: pytest.TempPathFactory) -> None:
    mask, found, _ = umask_run("022", tmp_path_factory)
    manifests = {p: m for p, m in found.items() if p.endswith(".json") and "/artifacts/" in p}
    assert len(manifests) == 2
    assert set(manifests.values()) == {0o666 & ~mask}


# -- import cost -----------------------------------------------------------------------------------
HEAVY = ("textual", "rich", "numpy", "pandas", "plotext", "watchfiles")

IMPORTS = r"""
import sys
heavy = set(sys.argv[1].split(","))
if sys.argv[2] == "control":
    import numpy  # noqa: F401 - the probe must see a heavy module that is there
def loaded():
    return sorted(m for m in sys.modules if m.split(".")[0] in heavy)
import logger
print("import", loaded())
run = logger.init(project="p", dir="runs", config={"lr": 0.1})
logger.log({"loss": 0.5})
logger.define_metric("loss", summary="min")
open("w.bin", "wb").write(b"w")
logger.log_artifact("w.bin", name="w")
logger.save("w.bin")
logger.finish()
print("logging", loaded())
api = logger.Api("runs")
for r in api.runs():
    r.history(pandas=False), r.summary, r.config, list(r.scan_history())
print("api", loaded())
"""


def test_import_logger_pulls_in_no_ui_or_data_libraries(tmp_path: Path) -> None:
    script = relkit.write_script(tmp_path, "imports.py", IMPORTS)
    proc = relkit.run_script(script, ",".join(HEAVY), "check")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["import []", "logging []", "api []"], proc.stdout
    # The probe can fail: with numpy imported first, it reports it.
    pytest.importorskip("numpy")
    control = relkit.run_script(script, ",".join(HEAVY), "control")
    assert control.returncode == 0 and "import ['numpy'" in control.stdout, control.stderr
