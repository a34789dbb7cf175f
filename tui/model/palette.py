"""Run colours: Okabe-Ito's colour-blind-safe set (plus two of Paul Tol's muted colours), with
the 256- and 16-colour stand-ins chosen by hand per colour system.

Left to Rich's downgrade, Okabe-Ito's orange and vermillion both become ANSI yellow in 16
colours, and ANSI colours 0-15 (which Textual turns into its theme's RGB) can land on one
256-colour cube entry; so the widget draws each swatch in the terminal's own colour system.
"""

from __future__ import annotations

from dataclasses import dataclass

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Swatch:
    name: str
    rgb: RGB  # truecolor
    c256: int  # a 6x6x6-cube entry (16-231): exact under Rich's 256-colour downgrade
    c16: int  # an ANSI colour (0-15): Textual passes these through as they are


SWATCHES = (
    Swatch("sky blue", (0x56, 0xB4, 0xE9), 74, 14),
    Swatch("orange", (0xE6, 0x9F, 0x00), 214, 3),
    Swatch("bluish green", (0x00, 0x9E, 0x73), 36, 2),
    Swatch("vermillion", (0xD5, 0x5E, 0x00), 166, 9),
    Swatch("reddish purple", (0xCC, 0x79, 0xA7), 175, 13),
    Swatch("yellow", (0xF0, 0xE4, 0x42), 227, 11),
    Swatch("blue", (0x00, 0x72, 0xB2), 32, 12),  # Okabe-Ito's blue, a shade lighter on dark
    Swatch("grey", (0xBB, 0xBB, 0xBB), 250, 7),
    Swatch("teal", (0x44, 0xAA, 0x99), 72, 6),  # Tol muted
    Swatch("wine", (0xAA, 0x33, 0x77), 125, 5),  # Tol bright purple
)
PALETTE = tuple(s.c256 for s in SWATCHES)  # what a Line's `color` holds for run i
_BY_CODE = {s.c256: s for s in SWATCHES}
DIM = 244  # raw curves behind smoothed ones, bands, runs not highlighted


def run_color(i: int) -> int:
    """The colour of the i-th overlaid run (the same in every chart; cycles after ten)."""
    return PALETTE[i % len(PALETTE)]


# What Rich's 16-colour downgrade matches against (rich._palettes.STANDARD_PALETTE).
ANSI16: tuple[RGB, ...] = (
    (0, 0, 0), (170, 0, 0), (0, 170, 0), (170, 85, 0), (0, 0, 170), (170, 0, 170), (0, 170, 170),
    (170, 170, 170), (85, 85, 85), (255, 85, 85), (85, 255, 85), (255, 255, 85), (85, 85, 255),
    (255, 85, 255), (85, 255, 255), (255, 255, 255))
_CUBE = (0, 95, 135, 175, 215, 255)


def xterm_rgb(code: int) -> RGB:
    """The RGB of a 256-colour index, as xterm (and Rich's downgrade) has it."""
    if code < 16:
        return ANSI16[code]
    if code >= 232:
        v = 8 + 10 * (code - 232)
        return (v, v, v)
    n = code - 16
    return (_CUBE[n // 36], _CUBE[n // 6 % 6], _CUBE[n % 6])


def for_system(code: int, system: str | None) -> int | RGB:
    """A Line colour as an RGB triple that Rich's downgrade to the terminal's colour system
    maps to the colour chosen for that system. RGB, not an index: Textual turns ANSI
    indexes into its theme's RGB first, and those fold together ("standard" and "256")."""
    swatch = _BY_CODE.get(code)
    if swatch is None and code != DIM:
        return code  # another chart's own colour (parallel coordinates): as it was
    if system in ("standard", "windows"):
        return ANSI16[swatch.c16 if swatch else 8]
    if system == "truecolor" and swatch is not None:
        return swatch.rgb
    return xterm_rgb(code)


def style(code: int, system: str | None) -> str:
    """for_system() as a Rich colour name (for legend swatches)."""
    c = for_system(code, system)
    if isinstance(c, tuple):
        return "#{:02x}{:02x}{:02x}".format(*c)
    return f"color({c})"


def dimmed(code: int, system: str | None) -> int | RGB:
    """A run's colour when another run is highlighted: its own hue, darker, in truecolor;
    the dim grey where a darker shade of it may not exist."""
    c = for_system(code, system)
    if isinstance(c, tuple) and code in _BY_CODE:
        return (c[0] * 2 // 5, c[1] * 2 // 5, c[2] * 2 // 5)
    return for_system(DIM, system)


def legend_page(widths: list[int], width: int, rows: int, page: int) -> tuple[list[int], int, int]:
    """Which legend entries (by index) fit `rows` rows of `width` cells, on page `page`
    (wrapped): (indices, page shown, pages). An entry wider than a row gets a row of its own."""
    pages: list[list[int]] = [[]]
    used_rows, used = 1, 0
    for i, w in enumerate(widths):
        if used and used + w > width:
            used_rows, used = used_rows + 1, 0
            if used_rows > rows:
                pages.append([])
                used_rows = 1
        pages[-1].append(i)
        used += w
    page %= len(pages)
    return pages[page], page, len(pages)


def _cut(name: str, head: int, most: int) -> str:
    if len(name) <= most:
        return name
    return name[:head] + "…" + name[len(name) - (most - 1 - head):]


def shorten(names: list[str], most: int) -> list[str]:
    """Each name in at most `most` cells, cut in the middle; where two would read the same
    ("vit-b16…warmup" twice) the cut moves so that what tells them apart stays."""
    out = [_cut(n, most // 2, most) for n in names]
    groups: dict[str, list[int]] = {}
    for i, short in enumerate(out):
        groups.setdefault(short, []).append(i)
    for members in groups.values():
        if len(members) < 2 or len({names[i] for i in members}) < len(members):
            continue
        for head in sorted(range(1, most - 1), key=lambda h: abs(h - most // 2)):
            cand = [_cut(names[i], head, most) for i in members]
            if len(set(cand)) == len(members) and not set(cand) & (set(out) - {out[members[0]]}):
                for i, c in zip(members, cand):
                    out[i] = c
                break
    return out
