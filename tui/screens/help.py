"""HelpScreen: every key of the screen it was opened from, and the filter syntax."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

FILTER_HELP = """\
Filter (/): words match name, tags and notes; terms match fields,
written without spaces (lr<0.1, not lr < 0.1):
  lr<=1e-3  batch_size=32  optimizer:adam  config (or summary)
  loss<0.5  summary.val/acc>=0.9           summary keys
  state:running  tag:baseline  group:sweep-1  name~^resnet
  created_at>=2024-01-01                   ISO 8601 or epoch secs
  notes:"first try"                        quote spaces in values
  sweep:ID  job_type:eval                  sweep runs, job type
  name~TEXT finds text that starts with an operator: name~<v2>
Operators: = == != < <= > >= and : (equals; contains for name
and notes), ~ (regex). A term that cannot be read is said on the
box's border; enter keeps the box open and the last good filter."""

# Hard line breaks, every line within 66 columns: the help box is 72 wide at 80 columns (90%),
# less its border, padding and scrollbar; a line Rich wraps there cut a key from its meaning.
CHART_HELP = """\
Charts: in a panel beside the table (wide terminals) or below it,
and full screen (enter). They draw the run under the cursor, or
the marked runs (space) overlaid; a group row draws the group's
mean with a ±std band (b; full screen: min-max instead). Every
metric gets a chart, in pages.
  c            show / hide the panel
  < >          panel smaller / bigger (or drag its title bar)
  [ ]          previous / next page
  tab          into the panel, where n p and page up / down page
  f            charts matching a glob (val/*) or words; enter
               keeps it, empty shows every metric
  F            follow newest: the cursor stays on the newest run
               (moving it stops following); otherwise the same
               run stays under the cursor as new runs arrive
  left right   scroll the table sideways by whole columns (state
               and name stay)
Full screen (enter): z Z zoom, [ ] pan, 0 resets; h highlights a
run; o shows outliers. x axis: a metric's step_metric (from
define_metric) by default; x cycles step and times, X picks any
logged metric. Mouse: the wheel zooms where the pointer is, a
drag pans; in inspect mode (c) the legend shows each run's value
at the pointer (, . move it).
Smoothing (+ -, s for the kind): W&B's time-weighted EMA, EMA,
running average, gaussian."""


def one_case(description: str) -> str:
    """Descriptions in the key bar's style, lower case ("Scroll Left" -> "scroll left"),
    leaving words in capitals (GPU) as they are."""
    return " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in description.split())


def screen_keys(app: Any, screen: Any) -> list[tuple[str, str]]:
    """Every key `screen` takes, one row each, an action's keys together (↑ then k): the
    screen's own first, then the app's, then the focused widget's."""
    keys: dict[str, list[Any]] = {}  # action -> [rank, displays, description]
    for node, binding, _enabled, _tip in screen.active_bindings.values():
        if not binding.description:
            continue
        action = binding.action
        rank = 0 if node is screen else 1 if node is app else 2
        display = app.get_key_display(binding)
        entry = keys.setdefault(action, [rank, [], one_case(binding.description)])
        entry[0] = min(entry[0], rank)
        if display not in entry[1]:
            entry[1].append(display)
    ordered = sorted(keys.values(), key=lambda e: e[0])
    return [(display, description) for _rank, displays, description in ordered
            for display in displays]


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 100; height: 90%; border: thick $primary;
        background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [
        Binding("escape,q,question_mark", "close", "close"),
    ]

    def __init__(self, title: str, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.keys = keys

    def compose(self) -> ComposeResult:
        text = Text()
        text.append(f"{self.title_text}: keys\n\n", style="bold")
        width = max((len(k) for k, _ in self.keys), default=4)
        for key, description in self.keys:
            text.append(f"  {key:<{width}}  ", style="bold")
            text.append(f"{description}\n")
        text.append("\n" + FILTER_HELP + "\n\n" + CHART_HELP + "\n")
        text.append("\nctrl+p opens the command palette (every action, searchable);\n"
                    "the mouse works: click a row, a header to sort, a key below.\n")
        with VerticalScroll():
            yield Static(text, id="help-text")

    def action_close(self) -> None:
        self.dismiss(None)
