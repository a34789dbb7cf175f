"""Audio, Video, Html, Object3D, Molecule and plotly figures, stored as W&B stores them; and
how media read back: `run.file().download()`, `describe()`, `runwatch show`."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

import logger
from logger import RunwatchWarning
from logger.media import describe
from tests.conftest import REPO, script_env


def _run(root: Path) -> logger.api.Run:
    (run,) = logger.Api(root).runs()
    return run


def _row(root: Path, values: dict) -> tuple[logger.api.Run, dict]:
    logger.init(dir=root, project="p")
    logger.log(values)
    logger.finish()
    run = _run(root)
    return run, run.history(pandas=False)[0]


def test_audio_from_samples_is_a_wav_and_from_a_path_is_copied(root: Path, tmp_path: Path) -> None:
    t = np.linspace(0, 1, 800, endpoint=False)
    tone = np.sin(2 * np.pi * 50 * t).astype(np.float32)
    stereo = np.stack([tone, -tone], axis=1)
    path = tmp_path / "a.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000), w.writeframes(b"\0\0" * 10)
    run, row = _row(root, {"tone": logger.Audio(tone, sample_rate=800, caption="50 Hz"),
                           "stereo": logger.Audio(stereo, sample_rate=800), "file": logger.Audio(path)})
    ref = row["tone"]
    assert ref["_type"] == "audio-file" and ref["caption"] == "50 Hz" and ref["duration"] == 1.0
    assert ref["path"].startswith("media/audio/tone_0_") and ref["path"].endswith(".wav")
    with wave.open(run.file(ref["path"]).path) as w:
        assert (w.getnchannels(), w.getframerate(), w.getnframes()) == (1, 800, 800)
        first = np.frombuffer(w.readframes(800), dtype="<i2")
    assert np.abs(first / 32767 - tone).max() < 1e-4
    with wave.open(run.file(row["stereo"]["path"]).path) as w:
        assert w.getnchannels() == 2
    assert Path(run.file(row["file"]["path"]).path).read_bytes() == path.read_bytes()
    with pytest.raises(ValueError, match="sample_rate"):
        logger.Audio(tone)


def test_video_html_object3d_molecule_and_plotly(root: Path, tmp_path: Path) -> None:
    import plotly.graph_objects as go

    frames = np.random.default_rng(0).integers(0, 255, (3, 3, 8, 10), dtype=np.uint8)
    pdb = tmp_path / "m.pdb"
    pdb.write_text("ATOM      1  N   ALA A   1      11.104   6.134  -6.504\n")
    points = np.random.default_rng(1).random((5, 3))
    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))
    run, row = _row(root, {"vid": logger.Video(frames, fps=2), "page": logger.Html("<b>hi</b>"),
                           "pts": logger.Object3D(points), "mol": logger.Molecule(pdb), "fig": fig})
    vid = row["vid"]
    assert vid["_type"] == "video-file" and vid["format"] == "gif" and (vid["width"], vid["height"]) == (10, 8)
    with PILImage.open(run.file(vid["path"]).path) as gif:
        assert gif.n_frames == 3 and gif.size == (10, 8)
    assert row["page"]["_type"] == "html-file"
    assert Path(run.file(row["page"]["path"]).path).read_text() == "<b>hi</b>"
    assert row["pts"]["_type"] == "object3D-file" and row["pts"]["path"].endswith(".pts.json")
    assert json.loads(Path(run.file(row["pts"]["path"]).path).read_text()) == points.tolist()
    assert row["mol"]["_type"] == "molecule-file" and row["mol"]["path"].endswith(".pdb")
    assert row["fig"]["_type"] == "plotly-file" and row["fig"]["path"].endswith(".plotly.json")
    stored = json.loads(Path(run.file(row["fig"]["path"]).path).read_text())
    assert stored["data"][0]["y"] == [3, 4]


def test_run_file_download_copies_into_root_as_w_and_b_does(root: Path, tmp_path: Path) -> None:
    run, row = _row(root, {"img": logger.Image(np.zeros((2, 3), dtype=np.uint8))})
    f = run.file(row["img"]["path"])
    assert f.name == row["img"]["path"] and f.size == row["img"]["size"]
    with f.download(root=str(tmp_path / "dl")) as opened:
        assert Path(opened.name) == tmp_path / "dl" / row["img"]["path"]
    assert (tmp_path / "dl" / f.name).read_bytes() == Path(f.path).read_bytes()
    with pytest.raises(ValueError, match="already exists"):
        f.download(root=str(tmp_path / "dl"))
    f.download(root=str(tmp_path / "dl"), exist_ok=True).close()
    f.download(root=str(tmp_path / "dl"), replace=True).close()
    with pytest.raises(ValueError, match="outside the run"):
        run.file("../../../../etc/passwd")
    with pytest.raises(ValueError, match="has no file"):
        run.file("media/nothing.png")


def test_describe_names_each_kind_in_a_few_words(root: Path) -> None:
    imgs = [logger.Image(np.zeros((4, 6), dtype=np.uint8))] * 2
    run, row = _row(root, {"img": logger.Image(np.zeros((64, 64, 3))), "imgs": imgs,
                           "tbl": logger.Table(columns=["a"], data=[[1], [2]]),
                           "h": logger.Histogram([1, 2, 3], num_bins=8),
                           "a": logger.Audio(np.zeros(400), sample_rate=200), "page": logger.Html("x")})
    assert [describe(row[k]) for k in ("img", "imgs", "tbl", "h", "a", "page")] == [
        "Image 64x64 png", "2 Images 6x4 png", "Table 2 rows x 1 cols", "Histogram 8 bins",
        "Audio 2.0s", "Html html"]
    assert describe(0.5) == "" and describe({"a": 1}) == "" and describe({"_type": "adam"}) == ""
    assert describe({"_type": "image-file", "format": "png\x1b[31m", "width": 1, "height": 1}) == \
        "Image 1x1 png\\x1b[31m"


def test_runwatch_show_names_media_in_the_summary(root: Path) -> None:
    import subprocess
    import sys

    logger.init(dir=root, project="p", id="media1")
    logger.log({"img": logger.Image(np.zeros((64, 32, 3))), "loss": 0.5})
    logger.finish()
    proc = subprocess.run([sys.executable, "-m", "tui", "show", "p/media1", "--root", str(root)],
                          capture_output=True, text=True, env=script_env(), cwd=REPO, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert any(line.split() == ["img", "Image", "32x64", "png"] for line in proc.stdout.splitlines()), proc.stdout


def test_lists_of_unstorable_objects_now_warn_once_naming_the_key(root: Path) -> None:
    class Thing:
        def __repr__(self) -> str:
            return "<thing>"

    logger.init(dir=root, project="p")
    with pytest.warns(RunwatchWarning) as record:
        for _ in range(3):
            logger.log({"things": [Thing(), Thing()], "ok": [1, 2], "deep": {"a": [{"b": Thing()}]},
                        "fine": {"a": [np.float32(1), {"b": (2, "x")}]}})
    logger.finish()
    messages = [str(w.message) for w in record]
    assert len(messages) == 2 and all("repr" in m for m in messages), messages
    assert "'things'" in messages[0] and "'deep'" in messages[1], messages
    assert _run(root).history(pandas=False)[0]["things"] == ["<thing>", "<thing>"]


def test_point_cloud_scenes_and_class_sets(root: Path) -> None:
    points = np.random.default_rng(2).random((4, 3))
    boxes = [{"corners": [[0, 0, 0]] * 8, "label": "car", "color": [255, 0, 0]}]
    scene = logger.Object3D.from_point_cloud(points=points, boxes=boxes, vectors=np.array([[0, 0, 1]]))
    img = logger.Image(np.zeros((2, 2), dtype=np.uint8),
                       classes=logger.Classes([{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}]))
    run, row = _row(root, {"scene": scene, "np": logger.Object3D.from_numpy(points), "img": img})
    stored = json.loads(Path(run.file(row["scene"]["path"]).path).read_text())
    assert stored["type"] == "lidar/beta" and stored["points"] == points.tolist()
    assert stored["boxes"][0]["label"] == "car" and stored["vectors"] == [[0, 0, 1]]
    assert row["np"]["_type"] == "object3D-file"
    assert row["img"]["classes"] == {"_type": "classes", "class_set": [{"id": 1, "name": "cat"},
                                                                       {"id": 2, "name": "dog"}]}
