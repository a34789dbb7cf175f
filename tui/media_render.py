"""Logged media as terminal text, for the app's media panel: no Textual, no NumPy, no PIL.

- `histogram_heatmap`: histograms logged over steps as one matrix (TensorBoard's
  distributions view): a column per step, a row per value band, each column scaled to its
  own peak so that a narrowing or drifting distribution reads at a glance.
- `half_blocks`: a PNG as rows of "▀" cells, the top pixel as the foreground colour and the
  bottom one as the background: two pixels a cell, in every terminal with 24-bit or 256
  colours (textual-image picks Kitty/Sixel where the terminal has them; this is the fallback).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from logger.media.png import decode_png

RGB = tuple[int, int, int]
Cell = tuple[str, RGB, RGB]  # character, foreground, background
SHADES = " ░▒▓█"


@dataclass(frozen=True)
class Heatmap:
    """`cells[r][c]` in 0-1: row 0 is the highest value band; `steps[c]` the step of column c."""

    cells: list[list[float]]
    steps: list[int]
    lo: float
    hi: float


def histogram_heatmap(series: list[tuple[int, Any]], rows: int, cols: int) -> Heatmap | None:
    """The histograms in `series` ((step, history value) pairs) as a `rows` x `cols` matrix.

    Values that are not W&B histograms are skipped; with more steps than columns, each column
    shows the last histogram of its share of the steps. None when there is nothing to draw.
    """
    hists = [(s, v["bins"], v["values"]) for s, v in series if _is_histogram(v)]
    if not hists or rows < 1 or cols < 1:
        return None
    lo = min(float(b[0]) for _, b, _ in hists)
    hi = max(float(b[-1]) for _, b, _ in hists)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    picked = [hists[min(len(hists) - 1, ((c + 1) * len(hists)) // cols - 1)]
              for c in range(min(cols, len(hists)))] if len(hists) > cols else hists
    columns = [_rebin(bins, counts, lo, hi, rows) for _, bins, counts in picked]
    cells = [[col[rows - 1 - r] for col in columns] for r in range(rows)]
    return Heatmap(cells, [s for s, _, _ in picked], lo, hi)


def _is_histogram(v: Any) -> bool:
    if not isinstance(v, dict) or v.get("_type") != "histogram":
        return False
    bins, values = v.get("bins"), v.get("values")
    return (isinstance(bins, list) and isinstance(values, list) and len(bins) == len(values) + 1
            and len(values) > 0 and all(isinstance(x, (int, float)) for x in (*bins, *values)))


def _rebin(bins: list[float], counts: list[float], lo: float, hi: float, rows: int) -> list[float]:
    """Counts spread over `rows` equal bands of [lo, hi] (uniform within each source bin),
    scaled so the fullest band is 1."""
    out = [0.0] * rows
    band = (hi - lo) / rows
    for left, right, count in zip(bins, bins[1:], counts):
        width = right - left
        if count <= 0:
            continue
        if width <= 0:  # a zero-width bin: all of it in one band
            out[min(rows - 1, max(0, int((left - lo) / band)))] += count
            continue
        first = max(0, int((left - lo) / band))
        last = min(rows - 1, int((right - lo) / band))
        for i in range(first, last + 1):
            overlap = min(right, lo + (i + 1) * band) - max(left, lo + i * band)
            if overlap > 0:
                out[i] += count * overlap / width
    peak = max(out)
    return [v / peak for v in out] if peak > 0 else out


def heatmap_text(heatmap: Heatmap, shades: str = SHADES) -> list[str]:
    """The matrix as lines of shade characters (" ░▒▓█"): empty bands stay blank."""
    top = len(shades) - 1
    return ["".join(shades[0] if v <= 0 else shades[max(1, round(v * top))] for v in row)
            for row in heatmap.cells]


def half_blocks(png: bytes, cols: int, rows: int, background: RGB = (0, 0, 0)) -> list[list[Cell]]:
    """A PNG fitted into `cols` x `rows` cells (aspect kept), two pixel rows a cell.

    Raises ValueError for what `logger.media.png.decode_png` cannot read (JPEG, 16-bit PNG):
    show the media's description instead.
    """
    width, height, channels, data = decode_png(png)
    scale = min(cols / width, 2 * rows / height)
    out_w, out_h = max(1, int(width * scale)), max(2, int(height * scale))
    pixels = [[_sample(data, width, height, channels, x, y, out_w, out_h, background)
               for x in range(out_w)] for y in range(out_h + out_h % 2)]
    return [[("▀", top, bottom) for top, bottom in zip(pixels[y], pixels[y + 1])]
            for y in range(0, len(pixels) - 1, 2)]


def _sample(data: bytes, w: int, h: int, ch: int, x: int, y: int, out_w: int, out_h: int,
            background: RGB) -> RGB:
    """The mean colour of the source pixels under output pixel (x, y), alpha over background."""
    if y >= out_h:
        return background
    x0, x1 = x * w // out_w, max(x * w // out_w + 1, (x + 1) * w // out_w)
    y0, y1 = y * h // out_h, max(y * h // out_h + 1, (y + 1) * h // out_h)
    total = [0.0, 0.0, 0.0]
    n = 0
    for sy in range(y0, min(y1, h)):
        row = sy * w * ch
        for sx in range(x0, min(x1, w)):
            px = data[row + sx * ch: row + sx * ch + ch]
            rgb = (px[0],) * 3 if ch in (1, 2) else tuple(px[:3])
            alpha = px[-1] / 255 if ch in (2, 4) else 1.0
            for i in range(3):
                total[i] += rgb[i] * alpha + background[i] * (1 - alpha)
            n += 1
    return (round(total[0] / n), round(total[1] / n), round(total[2] / n))


def cells_to_ansi(lines: list[list[Cell]]) -> str:
    """Half-block cells as 24-bit ANSI text (for a plain terminal, or `runwatch show`)."""
    out = []
    for line in lines:
        parts = [f"\x1b[38;2;{f[0]};{f[1]};{f[2]}m\x1b[48;2;{b[0]};{b[1]};{b[2]}m{c}" for c, f, b in line]
        out.append("".join(parts) + "\x1b[0m")
    return "\n".join(out)
