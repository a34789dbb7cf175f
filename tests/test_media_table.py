"""logger.Table and logger.Histogram: W&B's API, what is stored, and what reads back."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import logger


def _run(root: Path) -> logger.api.Run:
    (run,) = logger.Api(root).runs()
    return run


def test_table_api_matches_w_and_b() -> None:
    t = logger.Table(columns=["a", "b"], data=[[1, "x"], [2, "y"]])
    t.add_data(3, "z")
    t.add_column("c", [0.1, 0.2, 0.3])
    assert t.columns == ["a", "b", "c"]
    assert t.data == [[1, "x", 0.1], [2, "y", 0.2], [3, "z", 0.3]]
    assert t.get_column("b") == ["x", "y", "z"]
    assert t.get_column("a", convert_to="numpy").tolist() == [1, 2, 3]
    assert list(t.iterrows())[1] == (1, [2, "y", 0.2])
    assert logger.Table(data=[[1, 2, 3]]).columns == ["Input", "Output", "Expected"]
    assert logger.Table(columns=["x"], data=np.arange(3).reshape(3, 1)).get_column("x") == [0, 1, 2]
    with pytest.raises(ValueError, match="expects 3 columns"):
        t.add_data(1, 2)
    with pytest.raises(ValueError, match="Expected length 3"):
        t.add_column("d", [1])
    with pytest.raises(KeyError, match="no column 'zz'"):
        t.get_column("zz")
    empty = logger.Table(columns=[])
    empty.add_column("only", [5, 6])
    assert empty.data == [[5], [6]]


def test_tables_from_and_to_dataframes() -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"x": [1, 2], "y": [0.5, 1.5]})
    t = logger.Table(dataframe=df)
    assert t.columns == ["x", "y"] and t.data == [[1, 0.5], [2, 1.5]]
    assert logger.Table(data=df) == t
    assert t.get_dataframe().equals(df)


def test_a_logged_table_is_a_table_file_with_media_in_its_cells(root: Path) -> None:
    logger.init(dir=root, project="p")
    preds = logger.Table(columns=["id", "image", "score"])
    for i in range(3):
        preds.add_data(i, logger.Image(np.full((2, 2), i * 100, dtype=np.uint8)), np.float32(i / 4))
    logger.log({"preds": preds})
    logger.log({"preds": logger.Table(columns=["id"], data=[[9]])})
    logger.finish()
    run = _run(root)
    ref = run.history(pandas=False)[0]["preds"]
    assert ref["_type"] == "table-file" and (ref["ncols"], ref["nrows"]) == (3, 3)
    assert ref["path"].startswith("media/table/preds_0_") and ref["path"].endswith(".table.json")
    body = json.loads(Path(run.file(ref["path"]).path).read_text())
    assert body["columns"] == ["id", "image", "score"]
    assert [r[0] for r in body["data"]] == [0, 1, 2] and body["data"][2][2] == 0.5
    cell = body["data"][1][1]
    assert cell["_type"] == "image-file" and run.file(cell["path"]).size == cell["size"]
    first = run.load_table(ref)
    assert first.columns == ["id", "image", "score"] and len(first) == 3
    assert run.load_table("preds").data == [[9]]  # by key: the last one logged
    assert run.load_table("preds", step=0).get_column("id") == [0, 1, 2]
    with pytest.raises(KeyError, match="no table logged as 'nope'"):
        run.load_table("nope")


def test_a_dataframe_logged_directly_becomes_a_table(root: Path) -> None:
    pd = pytest.importorskip("pandas")
    logger.init(dir=root, project="p")
    logger.log({"df": pd.DataFrame({"a": [1, 2, 3]})})
    logger.finish()
    run = _run(root)
    assert run.load_table("df").get_column("a") == [1, 2, 3]


@pytest.mark.parametrize("n", [1, 7, 1000])
def test_histogram_bins_as_numpy_does_in_pure_python(n: int) -> None:
    values = np.random.default_rng(n).normal(size=n) * 3 + 1
    counts, edges = np.histogram(values, bins=64)
    pure = logger.Histogram(values.tolist())
    assert pure.histogram == counts.tolist()
    assert pure.bins == pytest.approx(edges.tolist(), rel=1e-12, abs=1e-12)
    fast = logger.Histogram(values)
    assert fast.histogram == counts.tolist() and fast.bins == edges.tolist()
    assert logger.Histogram(values.tolist(), num_bins=5).histogram == np.histogram(values, bins=5)[0].tolist()


def test_histogram_inputs_limits_and_non_finite_values() -> None:
    h = logger.Histogram(np_histogram=np.histogram([1, 2, 2, 3], bins=3))
    assert h.histogram == [1, 2, 1] and len(h.bins) == 4
    assert logger.Histogram([5, 5, 5], num_bins=2).bins == [4.5, 5.0, 5.5]
    with pytest.raises(ValueError, match="maximum length of a histogram is 512"):
        logger.Histogram([1, 2], num_bins=513)
    with pytest.raises(ValueError, match="len\\(bins\\) must be len\\(histogram\\) \\+ 1"):
        logger.Histogram(np_histogram=([1, 2], [0, 1]))
    nan = logger.Histogram([1.0, float("nan"), 2.0, float("inf")], num_bins=2)
    assert nan.histogram == [1, 1] and nan.dropped == 2
    assert logger.Histogram(np.array([[1.0, np.nan], [2.0, 3.0]]), num_bins=2).dropped == 1


def test_a_logged_histogram_is_inline_w_and_b_json(root: Path) -> None:
    logger.init(dir=root, project="p")
    for step in range(3):
        logger.log({"grads": logger.Histogram(np.arange(10) + step, num_bins=4)})
    logger.finish()
    run = _run(root)
    rows = run.history(pandas=False)
    assert rows[2]["grads"] == {"_type": "histogram", "values": [3, 2, 2, 3],
                                "bins": [2.0, 4.25, 6.5, 8.75, 11.0]}
    assert run.summary["grads"]["_type"] == "histogram"
    assert not list((root).rglob("*.json"))  # no file for a histogram


def test_a_logged_table_is_also_w_and_b_s_run_table_artifact(root: Path) -> None:
    run = logger.init(dir=root, project="p")
    for epoch in range(2):
        logger.log({"eval/preds": logger.Table(columns=["epoch", "img"],
                                               data=[[epoch, logger.Image(np.zeros((2, 2), dtype=np.uint8))]])})
    logger.finish()
    api = logger.Api(root)
    art = api.artifact(f"p/run-{run.id}-eval_preds:latest")
    assert (art.type, art.version) == ("run_table", "v1")
    table = art.get("eval/preds")
    assert table.get_column("epoch") == [1] and table.get_column("img")[0]["_type"] == "image-file"
    assert api.artifact(f"p/run-{run.id}-eval_preds:v0").get("eval/preds").get_column("epoch") == [0]
    assert art.get("missing") is None
    (read,) = api.runs()
    rows = read.history(pandas=False)
    assert "artifact_path" not in rows[1]["eval/preds"]  # logged off log()'s thread: no version yet
    assert [(a.name, a.version) for a in read.logged_artifacts()] == [
        (f"run-{run.id}-eval_preds", "v0"), (f"run-{run.id}-eval_preds", "v1")]


def test_nan_and_infinities_in_a_table_are_kept_as_w_and_b_writes_them(root: Path) -> None:
    """msgspec writes NaN as null (the value lost); W&B's table.json (json_dump_safer) holds
    Python json's NaN, Infinity, -Infinity tokens, which runwatch reads back as the floats.
    A None cell and the text "NaN" stay what they are; boxes and a point cloud alike."""
    nan, inf = float("nan"), float("inf")
    run = logger.init(dir=root, project="p")
    logger.log({"t": logger.Table(columns=["a", "b"], data=[[1.5, nan], [inf, "NaN"], [None, -inf]]),
                "cloud": logger.Object3D.from_point_cloud([[0.0, 1.0, nan]])})
    logger.finish()
    (read,) = logger.Api(root).runs()
    ref = read.history(pandas=False)[0]["t"]
    text = Path(read.file(ref["path"]).path).read_text()
    assert text == '{"columns":["a","b"],"data":[[1.5,NaN],[Infinity,"NaN"],[null,-Infinity]]}'
    data = read.load_table(ref).data
    assert math.isnan(data[0][1]) and data[1] == [inf, "NaN"] and data[2] == [None, -inf]
    assert run.id and logger.Api(root).artifact(f"p/run-{run.id}-t:v0").get("t").get_column("a")[1] == inf
    cloud = json.loads(Path(read.file(read.history(pandas=False)[0]["cloud"]["path"]).path).read_text())
    assert math.isnan(cloud["points"][0][2])
