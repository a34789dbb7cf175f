"""The main screen as a workspace, in pure Python: where the chart panel goes, which runs and
metrics it charts, how its charts are paged, and which row "follow newest" keeps.

No Textual here (a test checks): tui/widgets/workspace.py and chart_panel.py only lay out
and draw what these functions decide.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from fnmatch import fnmatchcase
from typing import Any, Literal

from .runview import RunView
from .table_model import Row

Placement = Literal["right", "below", "hidden"]

BESIDE_MIN_WIDTH = 200  # beside: the table keeps 100 columns (essentials, config, a second
# metric) and the charts get 100; narrower, the charts go below and the table keeps the width
MIN_BODY_ROWS = 16  # below: a 9-row table and a 7-row chart; fewer rows hide the panel
SPLIT_STEPS = (0.25, 0.33, 0.4, 0.5, 0.6, 0.67, 0.75)  # the panel's share, stepped with < >
DEFAULT_SPLIT = 0.5
CHART_MIN_WIDTH = 40  # a braille chart with a y axis reads from ~40 columns...
CHART_MIN_HEIGHT = 9  # ...and 9 rows (title, 7 rows of plot, legend)
MAX_PER_PAGE = 12


@dataclass
class PanelLayout:
    """The chart panel's settings (what a persisted view would remember).

    `shown` None: the size decides (hidden only where it would not fit)."""

    shown: bool | None = None
    split: float = DEFAULT_SPLIT  # the panel's share of the body, 0..1
    glob: str = ""  # only metrics matching it get a chart ("" for all)
    page: int = 0
    fill: bool = True  # below the table, the panel takes the rows the table does not need
    # (seven runs at 120x40 leave 28 rows to the charts), until the user resizes it


def panel_rows(height: int, split: float, table_rows: int, fill: bool) -> int:
    """The panel's height below a table of `table_rows` rows (header and scrollbar included)."""
    rows = round(height * split)
    if fill:
        rows = max(rows, height - table_rows)
    return max(3, min(rows, height - 3))


def placement(width: int, height: int, shown: bool | None) -> Placement:
    """Where the panel goes in a body of `width` x `height` cells: beside the table when
    wide, below it otherwise, and hidden when asked, or when the body is too short for both
    (unless asked for, then below)."""
    if shown is False:
        return "hidden"
    if width >= BESIDE_MIN_WIDTH:
        return "right"
    if height < MIN_BODY_ROWS and shown is None:
        return "hidden"
    return "below"


def step_split(split: float, delta: int) -> float:
    """The next panel share in SPLIT_STEPS, `delta` steps up (panel bigger) or down."""
    nearest = min(range(len(SPLIT_STEPS)), key=lambda i: abs(SPLIT_STEPS[i] - split))
    return SPLIT_STEPS[max(0, min(len(SPLIT_STEPS) - 1, nearest + delta))]


def clamp_split(split: float) -> float:
    """A share set by dragging the divider, kept where both sides stay usable."""
    return max(SPLIT_STEPS[0], min(SPLIT_STEPS[-1], split))


def glob_matches(glob: str, key: str) -> bool:
    """`val/*` as a glob; a pattern without * ? [ matches as a substring (`loss`)."""
    glob = glob.strip()
    if not glob:
        return True
    if not any(c in glob for c in "*?["):
        return glob.lower() in key.lower()
    return fnmatchcase(key, glob)


def chart_metrics(views: Iterable[RunView], first: Sequence[str], glob: str) -> list[str]:
    """Every numeric key the charted runs logged (only theirs: a run of another project gets
    no chart of a metric it never logged), the table's metric columns first, then A-Z."""
    logged: set[str] = set()
    for view in views:
        logged.update(view.numeric_keys)
    head = [k for k in first if k in logged]
    rest = sorted(logged.difference(head))
    return [k for k in head + rest if glob_matches(glob, k)]


def grid_shape(width: int, height: int) -> tuple[int, int]:
    """(columns, rows) of charts that fit a `width` x `height` area."""
    cols = max(1, width // CHART_MIN_WIDTH)
    rows = max(1, height // CHART_MIN_HEIGHT)
    while cols * rows > MAX_PER_PAGE:
        if cols >= rows:
            cols -= 1
        else:
            rows -= 1
    return cols, rows


@dataclass(frozen=True)
class Page:
    metrics: tuple[str, ...]
    index: int  # 0-based, clamped
    count: int  # pages in all (at least 1)
    total: int  # metrics in all


def page_of(metrics: Sequence[str], per_page: int, index: int) -> Page:
    """The `index`-th page of `per_page` metrics (clamped to the last page)."""
    per_page = max(1, per_page)
    count = max(1, -(-len(metrics) // per_page))
    index = max(0, min(index, count - 1))
    return Page(tuple(metrics[index * per_page:(index + 1) * per_page]), index, count, len(metrics))


@dataclass(frozen=True)
class Target:
    """What the panel charts: one run, the marked runs overlaid, or a group's band."""

    paths: tuple[str, ...]
    title: str  # "" for the run under the cursor
    group: bool = False


def chart_target(row: Row | None, marked: Sequence[str]) -> Target | None:
    """The marked runs (as given: those shown, in table order) when some are, else the row
    under the cursor: its run, or its group's runs as a band."""
    if marked:
        n = len(marked)
        return Target(tuple(marked), f"{n} marked run{'s' if n != 1 else ''}")
    if row is None:
        return None
    if row.kind == "group" and row.group is not None:
        runs = row.group.runs
        return Target(tuple(v.path for v in runs), f"group {row.group.label} ({len(runs)} runs)",
                      group=True)
    if row.run is None:
        return None
    return Target((row.key,), "")  # the cursor row says which run (and each legend)


def newest_row(rows: Sequence[Row]) -> int | None:
    """The index of the newest run's row (its group's, when the group is folded)."""
    best: tuple[float, int] | None = None
    for i, row in enumerate(rows):
        if row.run is not None:
            t = row.run.created_at
        elif row.group is not None and row.group.runs:
            t = max(v.created_at for v in row.group.runs)
            t -= 1e-9  # a member row, when shown, wins over its group's row
        else:
            continue
        if best is None or t > best[0]:
            best = (t, i)
    return None if best is None else best[1]


def key_counts(views: Iterable[RunView]) -> dict[str, int]:
    """How many of `views` logged each numeric key (what default metric columns rank by)."""
    counts: dict[str, int] = {}
    for view in views:
        for key in view.numeric_keys:
            counts[key] = counts.get(key, 0) + 1
    return counts


def layout_state(settings: PanelLayout) -> dict[str, Any]:
    """The panel's settings as the remembered view keeps them (tui/model/viewstate.py)."""
    return asdict(settings)


def apply_layout(settings: PanelLayout, saved: dict[str, Any]) -> None:
    """Restore remembered settings in place: a field of the wrong type (a damaged or older
    file) keeps its default; the split is clamped."""
    for f in fields(settings):
        value, current = saved.get(f.name), getattr(settings, f.name)
        if f.name == "shown" and (value is None or type(value) is bool):
            settings.shown = value
        elif f.name == "split" and isinstance(value, (int, float)) and not isinstance(value, bool):
            settings.split = clamp_split(float(value))
        elif f.name == "page" and type(value) is int and value >= 0:
            settings.page = value
        elif f.name in ("glob", "fill") and type(value) is type(current):
            setattr(settings, f.name, value)
