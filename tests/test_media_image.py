"""logger.Image with real NumPy arrays, PIL images, files and matplotlib figures."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

import logger
from logger import RunwatchWarning
from tests.conftest import run_script


def _one_run(root: Path) -> logger.api.Run:
    runs = logger.Api(root).runs()
    assert len(runs) == 1
    return runs[0]


def _log_one(root: Path, values: dict, **log_kw) -> tuple[logger.api.Run, dict]:
    logger.init(dir=root, project="p")
    logger.log(values, **log_kw)
    logger.finish()
    run = _one_run(root)
    return run, run.history(pandas=False)[0]


def _pil(run: logger.api.Run, ref: dict) -> PILImage.Image:
    with PILImage.open(run.file(ref["path"]).path) as im:
        return im.copy()


def _pixels(run: logger.api.Run, ref: dict) -> np.ndarray:
    return np.asarray(_pil(run, ref))


def test_a_float_array_is_stored_as_a_png_with_w_and_b_ref_fields(root: Path) -> None:
    rgb = np.random.default_rng(0).random((24, 40, 3))
    run, row = _log_one(root, {"img": logger.Image(rgb, caption="epoch 1")})
    ref = row["img"]
    assert ref["_type"] == "image-file" and ref["format"] == "png"
    assert (ref["width"], ref["height"], ref["caption"]) == (40, 24, "epoch 1")
    assert ref["path"].startswith("media/images/img_0_") and ref["path"].endswith(".png")
    data = Path(run.file(ref["path"]).path).read_bytes()
    import hashlib

    assert ref["sha256"] == hashlib.sha256(data).hexdigest() and ref["size"] == len(data)
    assert ref["sha256"][:20] in ref["path"]
    assert np.array_equal(_pixels(run, ref), np.clip(rgb * 255, 0, 255).astype(np.uint8))


def test_channels_first_uint8_greyscale_and_rgba_arrays(root: Path) -> None:
    chw = np.random.default_rng(1).integers(0, 256, (3, 8, 5), dtype=np.uint8)
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    rgba = np.full((2, 2, 4), 200, dtype=np.uint8)
    signed = np.array([[-1.0, 0.0], [0.5, 1.0]])
    run, row = _log_one(root, {"chw": logger.Image(chw), "grey": logger.Image(grey),
                               "rgba": logger.Image(rgba), "signed": logger.Image(signed)})
    assert np.array_equal(_pixels(run, row["chw"]), chw.transpose(1, 2, 0))
    assert (row["chw"]["width"], row["chw"]["height"]) == (5, 8)
    assert np.array_equal(_pixels(run, row["grey"]), grey)
    assert _pil(run, row["rgba"]).mode == "RGBA"
    # a range with negatives is shifted to 0-1 before scaling, as W&B does
    assert _pixels(run, row["signed"]).tolist() == [[0, 127], [191, 255]]


def test_mode_converts_channels(root: Path) -> None:
    rgb = np.zeros((2, 3, 3), dtype=np.uint8)
    rgb[..., 0] = 255
    run, row = _log_one(root, {"l": logger.Image(rgb, mode="L"), "rgba": logger.Image(rgb, mode="RGBA")})
    assert _pil(run, row["l"]).mode == "L"
    assert _pixels(run, row["l"]).tolist() == [[76] * 3] * 2  # 0.299 * 255, PIL's luma
    assert _pixels(run, row["rgba"])[0, 0].tolist() == [255, 0, 0, 255]


def test_pil_images_files_and_nested_lists(root: Path, tmp_path: Path) -> None:
    pil = PILImage.new("RGB", (7, 3), (10, 20, 30))
    jpg = tmp_path / "cat.jpg"
    PILImage.new("RGB", (33, 17), (200, 0, 0)).save(jpg)
    run, row = _log_one(root, {"pil": logger.Image(pil), "file": logger.Image(str(jpg)),
                               "path": logger.Image(jpg), "list": logger.Image([[0.0, 1.0], [1.0, 0.0]])})
    assert _pixels(run, row["pil"])[0, 0].tolist() == [10, 20, 30]
    assert (row["file"]["format"], row["file"]["width"], row["file"]["height"]) == ("jpeg", 33, 17)
    assert row["file"]["path"].endswith(".jpg")
    assert Path(run.file(row["file"]["path"]).path).read_bytes() == jpg.read_bytes()
    assert row["path"]["sha256"] == row["file"]["sha256"]
    assert _pixels(run, row["list"]).tolist() == [[0, 255], [255, 0]]


def test_matplotlib_figures_axes_and_pyplot_itself_are_stored_as_images(root: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1), dpi=50)
    ax.plot([1, 3, 2])
    try:
        run, row = _log_one(root, {"fig": fig, "chart": plt, "wrapped": logger.Image(fig)})
    finally:
        plt.close(fig)
    for key in ("fig", "chart", "wrapped"):
        assert row[key]["_type"] == "image-file", row[key]
        assert (row[key]["width"], row[key]["height"]) == (100, 50)
        assert _pil(run, row[key]).size == (100, 50)


def test_lists_of_images_are_w_and_b_images_separated(root: Path) -> None:
    imgs = [logger.Image(np.full((4, 6), i * 60, dtype=np.uint8), caption=f"c{i}") for i in range(3)]
    run, row = _log_one(root, {"examples": imgs})
    ref = row["examples"]
    assert ref["_type"] == "images/separated"
    assert (ref["count"], ref["width"], ref["height"], ref["format"]) == (3, 6, 4, "png")
    assert ref["captions"] == ["c0", "c1", "c2"]
    assert [_pixels(run, {"path": p})[0, 0] for p in ref["filenames"]] == [0, 60, 120]


def test_masks_and_boxes_are_kept_as_data(root: Path) -> None:
    mask = np.zeros((4, 5), dtype=np.int64)
    mask[1:3, 1:4] = 2
    boxes = {"box_data": [{"position": {"minX": 0.1, "maxX": 0.5, "minY": 0.2, "maxY": 0.6},
                           "class_id": 2, "box_caption": "cat", "scores": {"acc": 0.9}}],
             "class_labels": {0: "bg", 2: "cat"}}
    img = logger.Image(np.zeros((4, 5, 3)), masks={"pred": {"mask_data": mask, "class_labels": {0: "bg", 2: "cat"}}},
                       boxes={"pred": boxes})
    run, row = _log_one(root, {"seg": img})
    m = row["seg"]["masks"]["pred"]
    assert m["_type"] == "mask" and m["class_labels"] == {"0": "bg", "2": "cat"}
    assert np.array_equal(_pixels(run, m), mask.astype(np.uint8))  # class ids, not rescaled
    b = row["seg"]["boxes"]["pred"]
    assert b["_type"] == "boxes2D" and b["count"] == 1
    import json

    stored = json.loads(Path(run.file(b["path"]).path).read_text())
    assert stored["box_data"][0]["box_caption"] == "cat"
    assert stored["box_data"][0]["position"]["maxY"] == 0.6


def test_a_bad_image_warns_once_with_its_key_and_training_goes_on(root: Path) -> None:
    logger.init(dir=root, project="p")
    with pytest.warns(RunwatchWarning) as record:
        for i in range(3):
            logger.log({"loss": float(i), "bad": logger.Image(np.zeros((2, 2, 7))),
                        "gone": logger.Image("/no/such/file.png")})
    logger.finish()
    messages = [str(w.message) for w in record]
    assert len([m for m in messages if "'bad'" in m]) == 1, messages
    assert len([m for m in messages if "'gone'" in m]) == 1, messages
    rows = _one_run(root).history(pandas=False)
    assert [r["loss"] for r in rows] == [0.0, 1.0, 2.0]
    assert all(r["bad"].startswith("<Image") for r in rows)


def test_the_same_image_at_a_step_is_written_once_and_keys_cannot_climb_out(root: Path) -> None:
    img = logger.Image(np.zeros((2, 2), dtype=np.uint8))
    run, row = _log_one(root, {"../../evil/x": img, "val/img": img})
    assert row["val/img"]["path"].startswith("media/images/val/img_0_")
    evil = row["../../evil/x"]["path"]
    assert ".." not in evil and evil.startswith("media/images/evil/x_0_")
    files = sorted(p.relative_to(root) for p in root.rglob("*.png"))
    assert all(str(f).startswith("p/") for f in files) and len(files) == 2


def test_import_logger_and_logging_list_images_imports_no_numpy_pil_or_matplotlib(tmp_path: Path) -> None:
    proc = run_script(tmp_path, """
        import sys
        import logger
        run = logger.init(dir="runs", project="p")
        logger.log({"img": logger.Image([[0, 255], [255, 0]]), "h": logger.Histogram([1, 2, 3])})
        logger.finish()
        api = logger.Api("runs")
        row = api.runs()[0].history(pandas=False)[0]
        print(row["img"]["_type"], row["h"]["_type"])
        print(sorted(m for m in ("numpy", "PIL", "matplotlib", "pandas", "plotly") if m in sys.modules))
    """)
    assert proc.stdout.splitlines() == ["image-file histogram", "[]"], proc.stdout


def test_image_attribute_gives_a_pil_image() -> None:
    img = logger.Image(np.zeros((3, 4, 3), dtype=np.uint8))
    assert img.image.size == (4, 3)
    buf = io.BytesIO()
    img.image.save(buf, format="PNG")
    assert buf.getvalue()[:4] == b"\x89PNG"
    assert "numpy" in sys.modules  # (imported by this test module, not by logger)


def test_torch_tensors_channels_first_and_with_grad(root: Path) -> None:
    torch = pytest.importorskip("torch")  # not in the test extra (a 192 MB wheel): runs where installed
    chw = torch.rand(3, 8, 5)
    grads = torch.randn(500, requires_grad=True) * 2
    run, row = _log_one(root, {"img": logger.Image(chw), "h": logger.Histogram(grads)})
    expected = np.clip(chw.permute(1, 2, 0).numpy() * 255, 0, 255).astype(np.uint8)
    assert np.array_equal(_pixels(run, row["img"]), expected)
    assert row["h"]["values"] == np.histogram(grads.detach().numpy(), bins=64)[0].tolist()


def test_a_media_file_that_cannot_be_written_warns_once_and_training_goes_on(root: Path) -> None:
    run = logger.init(dir=root, project="p")
    (run.run_dir / "files").write_text("not a directory")  # every media write now fails
    with pytest.warns(RunwatchWarning) as record:
        for i in range(4):
            logger.log({"img": logger.Image(np.zeros((2, 2), dtype=np.uint8)), "loss": float(i)})
        logger.finish()  # the media thread writes (and warns) by then
    messages = [str(w.message) for w in record]
    assert len(messages) == 1 and "media/images/img_0_" in messages[0], messages
    rows = _one_run(root).history(pandas=False)
    assert [r["loss"] for r in rows] == [0.0, 1.0, 2.0, 3.0]
    assert rows[0]["img"]["_type"] == "image-file"  # what was logged, though its file is missing
