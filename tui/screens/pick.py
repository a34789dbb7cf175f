"""PickScreen: a searchable list of choices in a modal (metrics, group-by keys, sort column).

Dismisses with the chosen values (in list order), or None when cancelled with Escape.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, SelectionList
from textual.widgets.option_list import Option
from textual.widgets.selection_list import Selection

from logger.textsafe import one_line

from ..widgets.checklist import CheckList


class PickScreen(ModalScreen[list[str] | None]):
    """Pick one (`multi=False`) or several values; type to narrow the list."""

    DEFAULT_CSS = """
    PickScreen { align: center middle; }
    PickScreen > Vertical {
        width: 70%; max-width: 80; height: 80%; max-height: 30;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    PickScreen Label { width: 1fr; color: $text-muted; }
    PickScreen OptionList, PickScreen SelectionList { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "cancel"),
        Binding("enter", "accept", "accept", priority=True),
        Binding("down", "list_down", "down", show=False, priority=True),
        Binding("up", "list_up", "up", show=False, priority=True),
    ]

    def __init__(
        self, title: str, options: list[tuple[str, str]], selected: list[str] | None = None,
        multi: bool = False,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.options = options  # (value, label)
        self.multi = multi
        self.chosen: list[str] = list(selected or [])
        self._filled_for: str | None = None  # the search the list shows the matches of

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.title_text))
            yield Input(placeholder="type to search", id="pick-search")
            if self.multi:
                yield CheckList(id="pick-list")
            else:
                yield OptionList(id="pick-list")
            hint = ("type to search, enter adds the match; tab then space toggles; "
                    "enter accepts, escape cancels") if self.multi else (
                "type to search; enter picks, escape cancels")
            yield Label(Text(hint))

    def on_mount(self) -> None:
        self._fill("")
        self.query_one("#pick-search", Input).focus()

    def _visible(self, query: str) -> list[tuple[str, str]]:
        q = query.lower().strip()
        return [(v, label) for v, label in self.options if q in label.lower() or q in v.lower()]

    def _fill(self, query: str) -> None:
        self._filled_for = query
        visible = self._visible(query)
        if self.multi:
            sl = self.query_one("#pick-list", SelectionList)
            sl.clear_options()
            sl.add_options(
                [Selection(Text(one_line(label)), v, v in self.chosen) for v, label in visible])
            if visible:
                sl.highlighted = 0
        else:
            ol = self.query_one("#pick-list", OptionList)
            ol.clear_options()
            ol.add_options([Option(Text(one_line(label)), id=str(i)) for i, (_v, label)
                            in enumerate(visible)])
            self._shown = visible
            if visible:
                current = [i for i, (v, _l) in enumerate(visible) if v in self.chosen]
                ol.highlighted = current[0] if current else 0

    @on(Input.Changed, "#pick-search")
    def _search(self, event: Input.Changed) -> None:
        query = self.query_one("#pick-search", Input).value  # not a stale event's value
        if query != self._filled_for:
            self._fill(query)

    @on(SelectionList.SelectedChanged)
    def _selected(self, event: SelectionList.SelectedChanged) -> None:
        self._take_selection()

    def _take_selection(self) -> None:
        """`chosen` as the list's ticks say now (its shown values), the hidden ones as they were."""
        sl = self.query_one("#pick-list", SelectionList)
        shown = {v for v, _ in self._visible(self._filled_for or "")}
        now = set(sl.selected)
        self.chosen = [v for v in self.chosen if v not in shown or v in now]
        self.chosen += [v for v, _ in self.options if v in now and v not in self.chosen]

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss([self._shown[event.option_index][0]])

    def action_list_down(self) -> None:
        self.query_one("#pick-list", OptionList).action_cursor_down()

    def action_list_up(self) -> None:
        self.query_one("#pick-list", OptionList).action_cursor_up()

    def action_accept(self) -> None:
        search = self.query_one("#pick-search", Input)
        if search.value != self._filled_for:
            # Enter typed right behind the search ("g", "lr", enter): the list is filled on
            # Input.Changed, which bubbles up after the key; pick from the search as typed,
            # not from the list before it (which made enter take the first option, "*").
            self._fill(search.value)
        if self.multi:
            if self.focused is search and search.value.strip():
                # Enter on a search toggles the highlighted match and clears the search.
                sl = self.query_one("#pick-list", SelectionList)
                if sl.highlighted is not None:
                    value = sl.get_option_at_index(sl.highlighted).value
                    if value in self.chosen:
                        self.chosen.remove(value)
                    else:
                        self.chosen.append(value)
                search.value = ""
                return
            # Space right before enter: the list is ticked, SelectedChanged not here yet.
            self._take_selection()
            order = [v for v, _ in self.options]
            self.dismiss(sorted(self.chosen, key=order.index))
            return
        ol = self.query_one("#pick-list", OptionList)
        if ol.highlighted is not None and self._shown:
            self.dismiss([self._shown[ol.highlighted][0]])

    def action_cancel(self) -> None:
        self.dismiss(None)
