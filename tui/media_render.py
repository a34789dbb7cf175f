"""Logged media as terminal text, for the app's media panel: no Textual, no NumPy; Pillow when
it is there.

- `histogram_heatmap`: histograms logged over steps as one matrix (TensorBoard's
  distributions view): a column per step, a row per value band, each column scaled to its
  own peak so that a narrowing or drifting distribution reads at a glance.
- `half_blocks`: a PNG as rows of "▀" cells, the top pixel as the foreground colour and the
  bottom one as the background: two pixels a cell, in every terminal with 24-bit or 256
  colours (textual-image picks Kitty/Sixel where the terminal has them; this is the fallback).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from logger.media.png import decode_png
from logger.segfile import human_size

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
    """An image fitted into `cols` x `rows` cells (aspect kept), two pixel rows a cell.

    With Pillow (the field's decoder; in the app it is installed with textual-image) any image
    it reads is decoded and downscaled to the cells first: a 1024x1024 PNG in tens of ms.
    Without it, PNGs are decoded in pure Python (`logger.media.png`, ~3 s for 1024x1024) and
    anything else raises ValueError: show the media's description instead.
    """
    try:
        from PIL import Image as PILImage
    except ImportError:
        return _half_blocks_pure(png, cols, rows, background)
    return _half_blocks_pil(PILImage, png, cols, rows, background)


def fitted(width: int, height: int, cols: int, rows: int) -> tuple[int, int]:
    """The pixel size of a width x height image fitted into cols x rows half-blocks (aspect kept)."""
    scale = min(cols / width, 2 * rows / height)
    return max(1, int(width * scale)), max(2, int(height * scale))


def _half_blocks_pil(pil: Any, data: bytes, cols: int, rows: int, background: RGB) -> list[list[Cell]]:
    try:
        img = pil.open(io.BytesIO(data))
        size = fitted(img.width, img.height, cols, rows)
        img.draft("RGB", size)  # JPEG: decode at a fraction of the size, when that is enough
        img = img.convert("RGBA")
    except (OSError, ValueError, pil.DecompressionBombError) as exc:
        raise ValueError(f"not an image Pillow can read ({exc})") from None
    flat = pil.new("RGBA", img.size, (*background, 255))
    flat.alpha_composite(img)
    w, h = size
    small = pil.new("RGB", (w, h + h % 2), background)  # an odd last row over the background
    small.paste(flat.convert("RGB").resize(size, pil.Resampling.BOX))
    px = small.tobytes()
    out = []
    for y in range(0, h + h % 2, 2):
        top, bottom = y * w * 3, (y + 1) * w * 3
        out.append([("▀", (px[top + 3 * x], px[top + 3 * x + 1], px[top + 3 * x + 2]),
                     (px[bottom + 3 * x], px[bottom + 3 * x + 1], px[bottom + 3 * x + 2]))
                    for x in range(w)])
    return out


def _half_blocks_pure(png: bytes, cols: int, rows: int, background: RGB) -> list[list[Cell]]:
    width, height, channels, data = decode_png(png)
    out_w, out_h = fitted(width, height, cols, rows)
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


# -- how images are drawn: Kitty or Sixel graphics where the terminal has them ----------------
_SIXEL_TERMS = ("foot", "mlterm", "contour", "wezterm", "yaft")
_SIXEL_PROGRAMS = ("WezTerm", "iTerm.app", "mintty")


def image_protocol(env: Mapping[str, str], is_tty: bool, have_library: bool) -> str:
    """"kitty", "sixel" or "halfblock": how the media panel draws images in this terminal.

    Decided from the environment, never by querying the terminal (textual-image's probe cannot
    run once Textual reads stdin). Half-blocks unless the output is a terminal, textual-image
    is installed and the terminal is one known to draw graphics; inside tmux or screen too
    (they pass neither protocol through as drawn). RUNWATCH_IMAGES=kitty|sixel|halfblock overrides.
    """
    forced = env.get("RUNWATCH_IMAGES", "").strip().lower()
    if forced not in IMAGE_SETTINGS:
        forced = ""  # said once by the Media tab (images_setting_problem); chosen as if unset
    if not is_tty or not have_library or forced in ("halfblock", "halfblocks", "off", "none"):
        return "halfblock"
    if forced in ("kitty", "sixel"):
        return forced
    term, program = env.get("TERM", ""), env.get("TERM_PROGRAM", "")
    if env.get("TMUX") or env.get("STY") or term.startswith(("screen", "tmux")):
        return "halfblock"
    if "kitty" in term or env.get("KITTY_WINDOW_ID") or program.lower() == "ghostty":
        return "kitty"
    if program in _SIXEL_PROGRAMS or env.get("KONSOLE_VERSION") or any(t in term for t in _SIXEL_TERMS):
        return "sixel"
    return "halfblock"


IMAGE_SETTINGS = ("", "kitty", "sixel", "halfblock", "halfblocks", "off", "none")


def images_setting_problem(env: Mapping[str, str]) -> str | None:
    """What is wrong with RUNWATCH_IMAGES, to be said once (None when it is unset or valid)."""
    value = env.get("RUNWATCH_IMAGES", "")
    if value.strip().lower() in IMAGE_SETTINGS:
        return None
    return (f"RUNWATCH_IMAGES={value!r} is not one of kitty, sixel, halfblock: "
            "images are drawn as the terminal allows")


# -- media that is not drawn: described, with its file ----------------------------------------
_HTML_SHOWN = 64 * 1024  # bytes of an html file read for its text


def html_text(data: bytes, limit: int = 4000) -> str:
    """The readable text of an HTML page: tags, scripts and styles dropped, entities decoded,
    blank runs folded (still to be escaped before it is drawn)."""
    parser = _TextOnly()
    parser.feed(data[:_HTML_SHOWN].decode("utf-8", "replace"))
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)[:limit]


class _TextOnly(HTMLParser):
    _SKIP = frozenset(("script", "style", "head", "title"))
    _BREAK = frozenset(("p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table"))

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self._skipping += tag in self._SKIP
        if tag in self._BREAK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        if tag in self._BREAK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def media_entry(ref: dict[str, Any]) -> list[tuple[str, str]]:
    """What the panel says about a media file it does not draw: (label, value) pairs naming
    its type, format, size, duration, caption and file path (values still to be escaped)."""
    kind = str(ref.get("_type", ""))
    out = [("type", _KINDS.get(kind, kind))]
    fmt = ref.get("format")
    path = ref.get("path")
    if not isinstance(fmt, str) and isinstance(path, str):
        fmt = path.rsplit(".", 2)[-1] if not path.endswith(".pts.json") else "pts.json"
    if isinstance(fmt, str):
        out.append(("format", fmt))
    if isinstance(ref.get("width"), int) and isinstance(ref.get("height"), int):
        out.append(("frame", f"{ref['width']}x{ref['height']}"))
    if isinstance(ref.get("duration"), (int, float)):
        out.append(("duration", f"{ref['duration']:.2f} s"))
    if isinstance(ref.get("sample_rate"), int):
        out.append(("sample rate", f"{ref['sample_rate']} Hz"))
    if isinstance(ref.get("size"), int):
        out.append(("size", human_size(ref["size"])))
    if isinstance(ref.get("caption"), str):
        out.append(("caption", ref["caption"]))
    if isinstance(path, str):
        out.append(("file", path))
    return out


_KINDS = {"audio-file": "Audio", "video-file": "Video", "html-file": "Html", "object3D-file": "Object3D",
          "molecule-file": "Molecule", "plotly-file": "Plotly figure", "image-file": "Image"}
