"""The detail screen's Media tab: a run's logged media keys, a step slider, and for the chosen
key and step the image, table, histogram heatmap or `plot.*` chart; audio, video, html, 3-D
objects and molecules are described (type, format, size, duration, caption, file), html with
its text, and `y` copies the file's path.

Everything is read in thread workers: the key index under `store.with_runs` (copied out),
the files (PNGs, table JSON) outside the reader's lock. Images are drawn with Kitty or Sixel
graphics (textual-image) where the terminal has them, half-blocks everywhere else
(tui/media_render.py `image_protocol`).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import ContentSwitcher, DataTable, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from logger.media.readback import describe, load_table, media_keys, media_steps, run_file_path
from logger.rundata import RunData
from logger.textsafe import one_line, safe_text
from tui.media_charts import ChartData, chart_series, table_text
from tui.media_render import (
    Cell,
    Heatmap,
    half_blocks,
    histogram_heatmap,
    html_text,
    images_setting_problem,
    media_entry,
)
from tui.model.decimate import media_history

from ..model.store import RunStore
from ..widgets.media_view import MediaChart, entry_text, heatmap_view, image_text, pick_protocol

CHECK_INTERVAL = 0.5  # how often the panel looks for a new version of the run
MAX_TABLE_ROWS = 2000  # rows a table shows (W&B's own panel pages too)
CACHED_IMAGES = 32  # drawn images kept: a 1024x1024 PNG costs ~3 s of pure-Python decoding
_images: OrderedDict[tuple[str, int, int], list[list[Cell]]] = OrderedDict()


@dataclass(frozen=True)
class MediaKey:
    """One key the panel lists: `kind` is the media `_type`, or "chart" for a `plot.*` chart."""

    key: str
    kind: str
    steps: tuple[int, ...]


@dataclass
class Shown:
    """What the body shows for one key and step (computed in a worker)."""

    view: str  # "image", "table", "heatmap", "chart" or "text"
    title: str = ""
    cells: list[list[Cell]] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    heatmap: Heatmap | None = None
    chart: ChartData | None = None
    message: str = ""
    file: str = ""  # the media file on disk (drawn by textual-image, or copied by `y`)
    entry: list[tuple[str, str]] = field(default_factory=list)  # a described file: label, value


def index(run: RunData) -> list[MediaKey]:
    """The run's media keys and their steps, charts first under their own key."""
    charts, history = run.extras.get("charts", {}), media_history(run)
    out = [MediaKey(k, "chart", tuple(s for s, _ in media_steps(history, c.table_key)))
           for k, c in sorted(charts.items())]
    for key, kind in sorted(media_keys(history).items()):
        out.append(MediaKey(key, kind, tuple(s for s, _ in media_steps(history, key))))
    return out


def refs(run: RunData, item: MediaKey, step: int) -> tuple[Path, Any, Any]:
    """What loading `item` at `step` needs, copied under the lock: (run dir, ref, extra)."""
    history = media_history(run)
    if item.kind == "chart":
        chart = run.extras["charts"][item.key]
        ref = dict(media_steps(history, chart.table_key)).get(step)
        return run.dir, ref, {"table_key": chart.table_key, **chart.spec}
    if item.kind == "histogram":
        return run.dir, dict(media_steps(history, item.key)).get(step), media_steps(history, item.key)
    return run.dir, dict(media_steps(history, item.key)).get(step), None


def load(item: MediaKey, step: int, run_dir: Path, ref: Any, extra: Any, size: tuple[int, int],
         graphics: bool = False) -> Shown:
    """Read what `ref` names (outside the reader's lock) and make it drawable at `size`
    (`graphics`: images are drawn by textual-image from their file, not decoded here)."""
    title = f"{one_line(item.key)} · step {step} · {describe(ref) if ref else 'nothing at this step'}"
    cols, rows = size
    try:
        if item.kind == "histogram":
            heat = histogram_heatmap(extra, max(4, rows - 4), max(8, cols - 12))
            return Shown("heatmap", title, heatmap=heat) if heat else Shown("text", title, message="no histograms")
        if ref is None:
            return Shown("text", title, message="nothing logged at this step")
        if item.kind == "chart" or "table" in item.kind:
            table = load_table(run_dir, ref)
            if item.kind == "chart":
                data = chart_series(extra, table.columns, table.data)
                if data is None:
                    return Shown("text", title, message="a chart of a kind runwatch cannot draw yet")
                return Shown("chart", title, chart=data)
            header, cells = table_text(table.columns, table.data[:MAX_TABLE_ROWS])
            return Shown("table", title, header=header, rows=cells)
        path = ref.get("path") or (ref.get("filenames") or [None])[0]
        if "image" in item.kind and isinstance(path, str):
            file = run_file_path(run_dir, path)
            if graphics:
                return Shown("graphic", title, file=str(file))
            return Shown("image", title, cells=_image(file, cols, rows - 2), file=str(file))
        return described(title, run_dir, ref)
    except (OSError, ValueError, KeyError) as exc:
        return Shown("text", title, message=f"cannot show this: {one_line(exc, 200)}")


def described(title: str, run_dir: Path, ref: dict[str, Any]) -> Shown:
    """A media file the panel does not draw: what it is and where (the first of a list)."""
    items = next((ref[k] for k in ("audio", "videos", "html", "objects", "molecules")
                  if isinstance(ref.get(k), list) and ref[k]), None)
    first = items[0] if items and isinstance(items[0], dict) else ref
    entry = media_entry(first)
    if items:
        entry.insert(1, ("items", f"{len(items)} (the first is shown)"))
    path = first.get("path")
    file = str(run_file_path(run_dir, path)) if isinstance(path, str) else ""
    text = ""
    if file and first.get("_type") == "html-file":
        with open(file, "rb") as f:
            text = html_text(f.read(64 * 1024))
    return Shown("text", title, message=text, file=file, entry=entry)


def _image(path: Path, cols: int, rows: int) -> list[list[Cell]]:
    """The PNG at `path` as half-block cells fitted to cols x rows (cached: media files are
    content-addressed and never rewritten)."""
    key = (str(path), max(1, cols), max(1, rows))
    if key not in _images:
        _images[key] = half_blocks(path.read_bytes(), key[1], key[2])
        while len(_images) > CACHED_IMAGES:
            _images.popitem(last=False)
    _images.move_to_end(key)
    return _images[key]


class MediaPanel(Vertical):
    """The Media tab of one run. Keys: [ ] or left/right move the step, home/end jump."""

    DEFAULT_CSS = """
    MediaPanel { height: 1fr; }
    MediaPanel #media-slider { height: 1; padding: 0 1; background: $boost; }
    MediaPanel #media-keys { width: 24; height: 1fr; }
    MediaPanel #media-body { width: 1fr; height: 1fr; }
    MediaPanel #media-title { height: 1; padding: 0 1; }
    MediaPanel #media-switch { height: 1fr; }
    MediaPanel #media-empty { padding: 1 2; color: $text-muted; }
    MediaPanel #media-graphic { width: auto; height: auto; }
    """
    # [ ] home end win over the focused list or table (priority); left/right stay the table's
    # cursor keys there and move the step when the key list has the focus.
    BINDINGS = [
        Binding("left_square_bracket", "step(-1)", "step-", priority=True),
        Binding("right_square_bracket", "step(1)", "step+", priority=True),
        Binding("left", "step(-1)", "step-", show=False),
        Binding("right", "step(1)", "step+", show=False),
        Binding("home", "step_to(0)", "first step", show=False, priority=True),
        Binding("end", "step_to(-1)", "last step", show=False, priority=True),
        Binding("y", "yank", "copy path"),
    ]

    def __init__(self, store: RunStore, path: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store = store
        self.path = path
        self.keys: list[MediaKey] = []
        self.key: str | None = None  # the selected key
        self.step_index = -1  # into the selected key's steps; -1 is the last
        self.shown: Shown | None = None  # what the body shows now (tests read it)
        self.loads = 0  # bodies shown (tests wait on it)
        self._version: object = None
        self._wanted: object = None
        self._focused = False
        self.protocol = "halfblock"  # or "kitty"/"sixel", chosen when mounted (pick_protocol)
        self._graphic: Any = None  # textual-image's widget class for that protocol

    def compose(self) -> ComposeResult:
        yield Static("loading…", id="media-empty")
        yield Static(id="media-slider")
        with Horizontal(id="media-main"):
            yield OptionList(id="media-keys")
            with Vertical(id="media-body"):
                yield Static(id="media-title")
                with ContentSwitcher(initial="media-text", id="media-switch"):
                    yield VerticalScroll(Static(id="media-image"), id="media-image-box")
                    yield DataTable(id="media-table", zebra_stripes=True)
                    yield Static(id="media-heatmap")
                    yield MediaChart(id="media-chart")
                    yield Static(id="media-text")

    def on_mount(self) -> None:
        self.protocol, self._graphic = pick_protocol(self.app.is_headless)
        problem = images_setting_problem(os.environ)
        if problem is not None:
            self.notify(safe_text(problem), severity="warning", markup=False)
        if self._graphic is not None:
            self.query_one("#media-image-box").mount(self._graphic(id="media-graphic"))
        self._show_parts(False)
        self.set_interval(CHECK_INTERVAL, self._check)
        self.call_after_refresh(self._check)

    def _show_parts(self, any_media: bool) -> None:
        self.query_one("#media-slider").display = any_media
        self.query_one("#media-main").display = any_media
        self.query_one("#media-empty").display = not any_media

    def _check(self) -> None:
        """A new version of the run (while the tab shows): index its media again."""
        if not self.region.width:
            return
        view = self.store.views.get(self.path)
        version = view.version if view is not None else None
        if version != self._version:
            self._version = version
            self._load_index()

    @work(thread=True, exclusive=True, group="media-index")
    def _load_index(self) -> None:
        found = self.store.with_runs([self.path], lambda runs: [index(r) for r in runs])
        self.app.call_from_thread(self._show_index, found[0] if found else [])

    def _show_index(self, keys: list[MediaKey]) -> None:
        self.keys = keys
        self._show_parts(bool(keys))
        if not keys:
            self.query_one("#media-empty", Static).update(Text("no media logged"))
            return
        names = [k.key for k in keys]
        if self.key not in names:
            self.key = names[0]
        options = self.query_one("#media-keys", OptionList)
        if [str(o.id) for o in options.options] != names:
            options.clear_options()
            options.add_options([Option(Text(f"{one_line(k.key, 14)}  {self._kind(k)}"), id=k.key)
                                 for k in keys])
        options.highlighted = names.index(self.key)
        if not self._focused:  # the first time the tab shows media: keys work at once
            self._focused = True
            options.focus()
        self._request()

    @staticmethod
    def _kind(item: MediaKey) -> str:
        return {"image-file": "img", "images/separated": "imgs", "table-file": "table",
                "incremental-table-file": "table", "histogram": "hist", "chart": "chart",
                "object3D-file": "3d", "molecule-file": "mol"}.get(item.kind, item.kind.split("-")[0][:5])

    def action_yank(self) -> None:
        """Copy the shown media file's path (OSC 52) and show it: open it with another tool."""
        file = self.shown.file if self.shown is not None else ""
        if not file:
            self.notify("nothing to copy: this view has no file", severity="warning")
            return
        self.app.copy_to_clipboard(file)
        self.notify(safe_text(file), title="path copied", markup=False)

    def on_option_list_option_highlighted(self, _event: OptionList.OptionHighlighted) -> None:
        self._take_highlighted()

    def _take_highlighted(self) -> None:
        """The key under the list's cursor now: OptionHighlighted bubbles up after the key that
        moved it, so a step key right behind ("down [" in one burst) asks here first."""
        options = self.query_one("#media-keys", OptionList)
        if options.highlighted is None or not options.option_count:
            return
        picked = options.get_option_at_index(options.highlighted).id
        if picked is not None and picked != self.key:
            self.key = str(picked)
            self.step_index = -1
            self._request()

    @property
    def current(self) -> MediaKey | None:
        return next((k for k in self.keys if k.key == self.key), None)

    @property
    def step(self) -> int | None:
        item = self.current
        if item is None or not item.steps:
            return None
        return item.steps[max(0, min(len(item.steps) - 1, self._position(item)))]

    def _position(self, item: MediaKey) -> int:
        return len(item.steps) - 1 if self.step_index < 0 else min(self.step_index, len(item.steps) - 1)

    def action_step(self, delta: int) -> None:
        self._take_highlighted()
        item = self.current
        if item is not None and item.steps:
            self.step_index = max(0, min(len(item.steps) - 1, self._position(item) + delta))
            self._request()

    def action_step_to(self, where: int) -> None:
        self._take_highlighted()
        self.step_index = where  # 0 the first; -1 follows the last as new steps arrive
        self._request()

    def _request(self) -> None:
        """Load the body for the selected key and step, if that is not what is shown."""
        item, step = self.current, self.step
        self._slider(item)
        if item is None or step is None:
            return
        body = self.query_one("#media-body")
        if body.size.width <= 2 or body.size.height <= 1:  # not laid out yet: draw at its size
            if self.region.width:  # shown: its body gets a size at the next layout
                self.call_after_refresh(self._request)
            return  # hidden: on_resize asks again when the tab is shown
        wanted = (item, step, self._version, body.size)
        if wanted != self._wanted:
            self._wanted = wanted
            self._load(item, step, (body.size.width - 2, body.size.height - 1), self._graphic is not None)

    def on_resize(self) -> None:
        self._request()  # an image or heatmap is drawn for the body's size: redraw at the new one

    def _slider(self, item: MediaKey | None) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        if item is not None and item.steps:
            pos, n = self._position(item), len(item.steps)
            width = max(10, min(60, self.size.width - 40))
            knob = round(pos * (width - 1) / max(1, n - 1))
            text.append(f"step {item.steps[pos]}  ", style="bold")
            text.append("━" * knob, style="cyan")
            text.append("●", style="bold")
            text.append("─" * (width - 1 - knob), style="dim")
            text.append(f"  {pos + 1}/{n}   [ ] or ←/→ move · home/end", style="dim")
        self.query_one("#media-slider", Static).update(text)

    @work(thread=True, exclusive=True, group="media-body")
    def _load(self, item: MediaKey, step: int, size: tuple[int, int], graphics: bool) -> None:
        got = self.store.with_runs([self.path], lambda runs: [refs(r, item, step) for r in runs])
        if get_current_worker().is_cancelled:  # a newer step was asked for: skip the decoding
            return
        shown = load(item, step, *got[0], size, graphics) if got else Shown("text", message="run not found")
        self.app.call_from_thread(self._show, shown, step)

    def _show(self, shown: Shown, step: int) -> None:
        self.shown = shown
        self.query_one("#media-title", Static).update(Text(shown.title, style="bold", no_wrap=True))
        switch = self.query_one("#media-switch", ContentSwitcher)
        if shown.view in ("image", "graphic"):
            self.query_one("#media-image", Static).update(image_text(shown.cells))
            if self._graphic is not None:
                self.query_one("#media-graphic").image = shown.file or None  # type: ignore[attr-defined]
        elif shown.view == "table":
            table = self.query_one("#media-table", DataTable)
            table.clear(columns=True)
            table.add_columns(*[Text(h) for h in shown.header])
            table.add_rows([[Text(c) for c in row] for row in shown.rows])
        elif shown.view == "heatmap" and shown.heatmap is not None:
            width = self.query_one("#media-body").size.width - 10
            self.query_one("#media-heatmap", Static).update(heatmap_view(shown.heatmap, step, width))
        elif shown.view == "chart":
            self.query_one("#media-chart", MediaChart).data = shown.chart
        else:
            body = entry_text(shown.entry, shown.message) if shown.entry else Text(shown.message, style="dim")
            self.query_one("#media-text", Static).update(body)
        switch.current = {"image": "media-image-box", "graphic": "media-image-box", "table": "media-table", "heatmap": "media-heatmap",
                          "chart": "media-chart"}.get(shown.view, "media-text")
        self.loads += 1
