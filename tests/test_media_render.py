"""tui/media_render.py: histograms over steps as a heatmap, PNGs as half-block cells."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

import logger
from logger.media.png import decode_png
from logger.media.readback import media_keys, media_steps
from tui.media_render import cells_to_ansi, half_blocks, heatmap_text, histogram_heatmap


def _logged(root: Path, values: list[dict]) -> logger.api.Run:
    logger.init(dir=root, project="p")
    for v in values:
        logger.log(v)
    logger.finish()
    (run,) = logger.Api(root).runs()
    return run


def test_a_drifting_distribution_climbs_the_heatmap(root: Path) -> None:
    rng = np.random.default_rng(0)
    run = _logged(root, [{"w": logger.Histogram(rng.normal(loc=step, scale=0.3, size=2000))}
                         for step in range(6)])
    series = [(r["_step"], r["w"]) for r in run.history(pandas=False)]
    heat = histogram_heatmap(series, rows=12, cols=6)
    assert heat is not None and heat.steps == [0, 1, 2, 3, 4, 5]
    assert len(heat.cells) == 12 and all(len(r) == 6 for r in heat.cells)
    peaks = [max(range(12), key=lambda r, c=c: heat.cells[r][c]) for c in range(6)]
    assert peaks == sorted(peaks, reverse=True) and peaks[0] > peaks[-1]  # row 0 is the top
    assert all(max(heat.cells[r][c] for r in range(12)) == 1.0 for c in range(6))
    assert heat.lo < -0.5 and heat.hi > 5.5
    text = heatmap_text(heat)
    assert len(text) == 12 and {len(line) for line in text} == {6}
    assert text[peaks[0]][0] == "█" and set("".join(text)) <= set(" ░▒▓█")


def test_more_steps_than_columns_shows_the_last_of_each_share_and_skips_non_histograms() -> None:
    series = [(s, {"_type": "histogram", "bins": [0, 1, 2], "values": [s, 1]}) for s in range(10)]
    series.insert(3, (99, "not a histogram"))
    series.insert(4, (98, {"_type": "histogram", "bins": [0, 1], "values": [1, 2]}))  # malformed
    heat = histogram_heatmap(series, rows=2, cols=5)
    assert heat is not None and heat.steps == [1, 3, 5, 7, 9]
    assert histogram_heatmap([(0, 1.5)], 4, 4) is None and histogram_heatmap([], 4, 4) is None


def test_half_blocks_put_two_pixel_rows_in_each_cell(root: Path) -> None:
    img = np.zeros((4, 4, 3), dtype=np.uint8)
    img[:2] = (255, 0, 0)
    img[2:] = (0, 0, 255)
    img[3, 3] = (0, 255, 0)
    run = _logged(root, [{"img": logger.Image(img)}])
    ref = run.history(pandas=False)[0]["img"]
    png = Path(run.file(ref["path"]).path).read_bytes()
    cells = half_blocks(png, cols=4, rows=2)
    assert len(cells) == 2 and all(len(line) == 4 for line in cells)
    assert cells[0][0] == ("▀", (255, 0, 0), (255, 0, 0))
    assert cells[1][0] == ("▀", (0, 0, 255), (0, 0, 255))
    assert cells[1][3] == ("▀", (0, 0, 255), (0, 255, 0))
    small = half_blocks(png, cols=2, rows=1)  # 2x2 pixels: each the mean of four
    flat = [c for _, *colours in small[0] for c in colours]  # Pillow rounds the means its own way
    want = [(255, 0, 0), (0, 0, 255), (255, 0, 0), (0, 64, 191)]
    assert len(small) == 1 and all(abs(a - b) <= 1 for got, exp in zip(flat, want) for a, b in zip(got, exp))
    assert cells_to_ansi(small).startswith("\x1b[38;2;255;0;0m\x1b[48;2;0;0;255m▀")


def test_decoding_what_pillow_writes_with_every_row_filter() -> None:
    rng = np.random.default_rng(5)
    smooth = (np.add.outer(np.arange(40), np.arange(30))[..., None] * [3, 5, 7] % 256).astype(np.uint8)
    smooth[::7] = rng.integers(0, 255, smooth[::7].shape, dtype=np.uint8)
    for mode, array in (("RGB", smooth), ("L", smooth[..., 0]), ("RGBA", np.dstack([smooth, smooth[..., :1]]))):
        buf = io.BytesIO()
        PILImage.fromarray(array, mode=mode).save(buf, format="PNG", optimize=True)
        width, height, channels, data = decode_png(buf.getvalue())
        assert (width, height) == (30, 40)
        assert np.frombuffer(data, np.uint8).reshape(array.shape).tolist() == array.tolist()


def test_alpha_is_drawn_over_the_background() -> None:
    rgba = np.zeros((2, 1, 4), dtype=np.uint8)
    rgba[0] = (255, 255, 255, 0)
    rgba[1] = (255, 255, 255, 255)
    buf = io.BytesIO()
    PILImage.fromarray(rgba, mode="RGBA").save(buf, format="PNG")
    assert half_blocks(buf.getvalue(), 1, 1, background=(10, 20, 30)) == [
        [("▀", (10, 20, 30), (255, 255, 255))]]


def test_the_panel_finds_media_keys_and_their_steps(root: Path) -> None:
    img = logger.Image(np.zeros((2, 2), dtype=np.uint8))
    run = _logged(root, [{"img": img, "loss": 1.0}, {"loss": 0.5, "note": "x"},
                         {"img": img, "h": logger.Histogram([1, 2]), "cfg": {"_type": "adam"}}])
    history = run._data.history
    assert media_keys(history) == {"img": "image-file", "h": "histogram"}
    assert [s for s, _ in media_steps(history, "img")] == [0, 2]
    assert media_steps(history, "loss") == [] and media_steps(history, "nope") == []
    heat = histogram_heatmap(media_steps(history, "h"), rows=2, cols=4)
    assert heat is not None and heat.steps == [2]
